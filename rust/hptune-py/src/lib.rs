//! `PyO3` bindings: conversion only. Every function validates its arrays, releases the GIL for
//! work that scales with the input, and maps core errors onto `hptune._errors`.

use hptune_core::{Error as CoreError, bo, grid, importance, sampling, space, tpe, trust_region};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyType};
use std::sync::Mutex;

/// Wrapper that turns a core error into the matching exception of `hptune._errors`.
struct BindError(CoreError);

impl From<CoreError> for BindError {
    fn from(e: CoreError) -> Self {
        Self(e)
    }
}

impl From<BindError> for PyErr {
    fn from(err: BindError) -> Self {
        let (class, message) = match err.0 {
            CoreError::InvalidArgument(m) => ("InvalidArgumentError", m),
            CoreError::OutOfRange(m) => ("OutOfRangeError", m),
            CoreError::Numerical(m) => ("NumericalError", m),
        };
        Python::attach(|py| {
            let class = py
                .import("hptune._errors")
                .and_then(|module| module.getattr(class))
                .and_then(|cls| cls.cast_into::<PyType>().map_err(PyErr::from));
            match class {
                Ok(cls) => PyErr::from_type(cls, message),
                Err(e) => e,
            }
        })
    }
}

type BindResult<T> = Result<T, BindError>;

fn value_error(message: impl Into<String>) -> PyErr {
    PyErr::from(BindError(CoreError::InvalidArgument(message.into())))
}

/// Copy a 2-d float array into a row-major Vec, checking the column count and finiteness.
fn rows_of(array: &PyReadonlyArray2<'_, f64>, d: usize, what: &str) -> PyResult<(usize, Vec<f64>)> {
    let view = array.as_array();
    let (n, cols) = view.dim();
    if cols != d {
        return Err(value_error(format!(
            "{what} must have {d} columns (one per dimension), got {cols}"
        )));
    }
    // A C-contiguous array (what the history keeps) copies as one block.
    let data: Vec<f64> = match view.as_slice() {
        Some(flat) => flat.to_vec(),
        None => view.iter().copied().collect(),
    };
    if data.iter().any(|x| !x.is_finite()) {
        return Err(value_error(format!(
            "{what} must contain only finite numbers"
        )));
    }
    Ok((n, data))
}

fn matrix(
    py: Python<'_>,
    data: Vec<f64>,
    n: usize,
    d: usize,
) -> PyResult<Bound<'_, PyArray2<f64>>> {
    PyArray1::from_vec(py, data).reshape([n, d])
}

/// An encoded search space, plus what turns value rows into params dicts: the parameter
/// names (interned once) and, for categoricals, the choice objects.
#[pyclass(module = "hptune._core", name = "Space", frozen)]
struct PySpace {
    inner: space::Space,
    names: Vec<Py<PyString>>,
    choices: Vec<Option<Vec<Py<PyAny>>>>,
}

impl PySpace {
    /// An `n x d` array mapped row by row through one of the space's encoders.
    fn map_rows<'py>(
        &self,
        py: Python<'py>,
        input: &PyReadonlyArray2<'py, f64>,
        what: &str,
        f: fn(&space::Space, &[f64], &mut [f64]) -> hptune_core::Result<()>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let d = self.inner.len();
        let (n, data) = rows_of(input, d, what)?;
        let mut out = vec![0.0; data.len()];
        f(&self.inner, &data, &mut out).map_err(BindError)?;
        matrix(py, out, n, d)
    }

    /// Params dicts from a row-major value matrix (categoricals as indices).
    fn dicts<'py>(&self, py: Python<'py>, values: &[f64]) -> PyResult<Bound<'py, PyList>> {
        let d = self.inner.len();
        let dims = self.inner.dims();
        let out = PyList::empty(py);
        for row in values.chunks_exact(d) {
            let dict = PyDict::new(py);
            for j in 0..d {
                let key = self.names[j].bind(py);
                let x = row[j];
                match (&self.choices[j], dims[j].kind()) {
                    (Some(choices), _) => {
                        let index = (x as usize).min(choices.len().saturating_sub(1));
                        dict.set_item(key, choices[index].bind(py))?;
                    }
                    (None, space::Kind::Int) => dict.set_item(key, x as i64)?,
                    (None, _) => dict.set_item(key, x)?,
                }
            }
            out.append(dict)?;
        }
        Ok(out)
    }
}

#[pymethods]
impl PySpace {
    #[new]
    #[pyo3(signature = (kinds, low, high, log, step, n_choices, names=None, choices=None))]
    #[allow(clippy::too_many_arguments)] // one array per field of the space's encoding
    fn new(
        py: Python<'_>,
        kinds: PyReadonlyArray1<'_, i64>,
        low: PyReadonlyArray1<'_, f64>,
        high: PyReadonlyArray1<'_, f64>,
        log: Vec<bool>,
        step: PyReadonlyArray1<'_, f64>,
        n_choices: PyReadonlyArray1<'_, u64>,
        names: Option<Vec<String>>,
        choices: Option<Vec<Option<Vec<Py<PyAny>>>>>,
    ) -> PyResult<Self> {
        let inner = space::Space::from_arrays(
            kinds.as_slice()?,
            low.as_slice()?,
            high.as_slice()?,
            &log,
            step.as_slice()?,
            n_choices.as_slice()?,
        )
        .map_err(BindError)?;
        let d = inner.len();
        let names: Vec<String> = names.unwrap_or_else(|| (0..d).map(|j| format!("x{j}")).collect());
        let choices = choices.unwrap_or_else(|| (0..d).map(|_| None).collect());
        if names.len() != d || choices.len() != d {
            return Err(value_error(format!(
                "names and choices must have one entry per dimension ({d})"
            )));
        }
        for (j, c) in choices.iter().enumerate() {
            let expected = inner.dims()[j].kind() == space::Kind::Categorical;
            let ok = match c {
                Some(list) => expected && list.len() as u64 == n_choices.as_slice()?[j],
                None => !expected,
            };
            if !ok {
                return Err(value_error(format!(
                    "dimension {j}: choices must be given exactly for categorical dimensions, one per choice"
                )));
            }
        }
        let names = names
            .iter()
            .map(|n| PyString::intern(py, n).unbind())
            .collect();
        Ok(Self {
            inner,
            names,
            choices,
        })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Values (n x d) -> unit coordinates (n x d).
    fn encode<'py>(
        &self,
        py: Python<'py>,
        values: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.map_rows(py, &values, "values", space::Space::encode)
    }

    /// Unit coordinates (n x d) -> values (n x d).
    fn decode<'py>(
        &self,
        py: Python<'py>,
        unit: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.map_rows(py, &unit, "unit", space::Space::decode)
    }

    /// Params dicts from value rows (n x d, categoricals as indices).
    fn values_to_dicts<'py>(
        &self,
        py: Python<'py>,
        values: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let (_, data) = rows_of(&values, self.inner.len(), "values")?;
        self.dicts(py, &data)
    }

    /// Params dicts of unit points (n x d).
    fn decode_dicts<'py>(
        &self,
        py: Python<'py>,
        unit: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let (_, data) = rows_of(&unit, self.inner.len(), "unit")?;
        let mut out = vec![0.0; data.len()];
        self.inner.decode(&data, &mut out).map_err(BindError)?;
        self.dicts(py, &out)
    }

    /// Params dicts of random trials `first .. first + n` of a study seeded with `seed`.
    fn sample_random_dicts<'py>(
        &self,
        py: Python<'py>,
        seed: u64,
        first: u64,
        n: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let values = sampling::sample_random(&self.inner, seed, first, n).map_err(BindError)?;
        self.dicts(py, &values)
    }

    /// Random values for trials `first .. first + n` of a study seeded with `seed`.
    fn sample_random<'py>(
        &self,
        py: Python<'py>,
        seed: u64,
        first: u64,
        n: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let d = self.inner.len();
        let values = py
            .detach(|| sampling::sample_random(&self.inner, seed, first, n))
            .map_err(BindError)?;
        matrix(py, values, n, d)
    }
}

/// A scrambled Sobol' sequence.
#[pyclass(module = "hptune._core", name = "Sobol", frozen)]
struct PySobol {
    inner: sampling::Sobol,
}

#[pymethods]
impl PySobol {
    #[new]
    #[pyo3(signature = (d, seed=None))]
    fn new(d: usize, seed: Option<u64>) -> BindResult<Self> {
        Ok(Self {
            inner: sampling::Sobol::new(d, seed)?,
        })
    }

    /// Unit points `first .. first + n` (n x d).
    fn points<'py>(
        &self,
        py: Python<'py>,
        first: u64,
        n: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let d = self.inner.dim();
        let out = py.detach(|| self.inner.points(first, n));
        matrix(py, out, n, d)
    }
}

/// A lazy grid over a space.
#[pyclass(module = "hptune._core", name = "Grid", frozen)]
struct PyGrid {
    inner: grid::Grid,
    d: usize,
}

#[pymethods]
impl PyGrid {
    #[new]
    #[pyo3(signature = (space, resolution=5, shuffle_seed=None))]
    fn new(space: &PySpace, resolution: usize, shuffle_seed: Option<u64>) -> BindResult<Self> {
        Ok(Self {
            inner: grid::Grid::new(&space.inner, resolution, shuffle_seed)?,
            d: space.inner.len(),
        })
    }

    /// Number of points (may exceed the range of a Python index; use `size`).
    #[getter]
    fn size(&self) -> u64 {
        self.inner.len()
    }

    /// Levels of each dimension, as lists of values.
    fn levels(&self) -> Vec<Vec<f64>> {
        self.inner.levels().to_vec()
    }

    /// Values of the points at visiting positions `first .. first + n` (n x d).
    fn points<'py>(
        &self,
        py: Python<'py>,
        first: u64,
        n: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let out = py
            .detach(|| self.inner.points(first, n))
            .map_err(BindError)?;
        matrix(py, out, n, self.d)
    }

    /// Position in visiting order of the grid index `index`.
    fn rank_of_index(&self, index: u64) -> BindResult<u64> {
        Ok(self.inner.rank_of_index(index)?)
    }

    /// Mixed-radix index of a point on the grid, or None.
    fn index_of_point(&self, point: Vec<f64>) -> PyResult<Option<u64>> {
        if point.len() != self.d {
            return Err(PyValueError::new_err(format!(
                "point must have {} values, got {}",
                self.d,
                point.len()
            )));
        }
        Ok(self.inner.index_of_point(&point))
    }
}

/// A model sampler's inputs copied out of numpy: completed unit rows, their values, and the
/// unit rows to avoid (each validated: one column per dimension, finite values).
type History = (Vec<f64>, Vec<f64>, Vec<f64>);

fn history_of(
    space: &PySpace,
    x: &PyReadonlyArray2<'_, f64>,
    y: &PyReadonlyArray1<'_, f64>,
    pending: &PyReadonlyArray2<'_, f64>,
) -> PyResult<History> {
    let d = space.inner.len();
    let (_, x) = rows_of(x, d, "x")?;
    let y = y.as_array();
    let y = y.as_slice().map_or_else(|| y.to_vec(), <[f64]>::to_vec);
    let (_, pending) = rows_of(pending, d, "pending")?;
    Ok((x, y, pending))
}

fn acquisition_of(name: &str, beta: f64) -> PyResult<bo::Acquisition> {
    Ok(match name {
        "logei" => bo::Acquisition::LogEi,
        "ei" => bo::Acquisition::Ei,
        "pi" => bo::Acquisition::Pi,
        "ucb" => bo::Acquisition::Ucb { beta },
        other => {
            return Err(value_error(format!(
                "unknown acquisition {other:?}; allowed: logei, ei, pi, ucb"
            )));
        }
    })
}

/// `TuRBO`'s trust-region schedule replayed after the first `n_start` trials; `None`: off.
fn trust_region_of(n_start: Option<usize>) -> Option<trust_region::TrustRegionOptions> {
    n_start.map(|n_start| trust_region::TrustRegionOptions {
        n_start,
        ..trust_region::TrustRegionOptions::default()
    })
}

/// GP Bayesian optimisation: `n` unit points to try next, and the fitted state (for warm
/// starts). `y` is minimised; `pending` rows are running or failed trials to avoid.
#[pyfunction]
#[pyo3(signature = (space, x, y, pending, n, seed, acquisition="logei", beta=2.0, n_candidates=512, n_restarts=4, fit_max_points=64, warm=None, noisy=false, trust_region=None))]
#[allow(clippy::too_many_arguments)] // mirrors BoOptions field by field
fn bo_suggest<'py>(
    py: Python<'py>,
    space: &PySpace,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    pending: PyReadonlyArray2<'py, f64>,
    n: usize,
    seed: u64,
    acquisition: &str,
    beta: f64,
    n_candidates: usize,
    n_restarts: usize,
    fit_max_points: usize,
    warm: Option<Vec<f64>>,
    noisy: bool,
    trust_region: Option<usize>,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Vec<f64>)> {
    let d = space.inner.len();
    let (x, y, pending) = history_of(space, &x, &y, &pending)?;
    let options = bo::BoOptions {
        acquisition: acquisition_of(acquisition, beta)?,
        n_candidates,
        n_restarts,
        fit_max_points,
        noisy,
        trust_region: trust_region_of(trust_region),
        ..bo::BoOptions::default()
    };
    let warm = state_of(d, warm)?;
    let inner = &space.inner;
    let (points, state) = py
        .detach(|| bo::suggest(inner, &x, &y, &pending, n, seed, &options, warm.as_ref()))
        .map_err(BindError)?;
    let rows = points.len() / d.max(1);
    Ok((matrix(py, points, rows, d)?, state.to_vec()))
}

/// The GP's log evidence of `y` at `x` per fitted observation, Jacobian-corrected by
/// `log_jacobian`, and the fitted state: for choosing among transforms of the objective (see
/// `bo::log_evidence`).
#[pyfunction]
#[pyo3(signature = (space, x, y, log_jacobian, seed, fit_max_points=64, warm=None, noisy=false))]
#[allow(clippy::too_many_arguments)] // mirrors bo_suggest's
fn gp_log_evidence<'py>(
    py: Python<'py>,
    space: &PySpace,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    log_jacobian: PyReadonlyArray1<'py, f64>,
    seed: u64,
    fit_max_points: usize,
    warm: Option<Vec<f64>>,
    noisy: bool,
) -> PyResult<(f64, Vec<f64>)> {
    let d = space.inner.len();
    let (_, x) = rows_of(&x, d, "x")?;
    let y = y.as_array().to_vec();
    let log_jacobian = log_jacobian.as_array().to_vec();
    let options = bo::BoOptions {
        fit_max_points,
        noisy,
        ..bo::BoOptions::default()
    };
    let warm = state_of(d, warm)?;
    let inner = &space.inner;
    let (evidence, state) = py
        .detach(|| bo::log_evidence(inner, &x, &y, &log_jacobian, seed, &options, warm.as_ref()))
        .map_err(BindError)?;
    Ok((evidence, state.to_vec()))
}

/// Suggested points, the objective GP's state and each constraint GP's state.
type ConstrainedSuggestion<'py> = (Bound<'py, PyArray2<f64>>, Vec<f64>, Vec<Vec<f64>>);

/// [`bo_suggest`] under outcome constraints: `constraints` is `n x k` (one column per
/// constraint, feasible when `<= 0`, NaN where a trial has none). Also returns the fitted state
/// of each constraint's GP, to pass back as `warm_constraints`.
#[pyfunction]
#[pyo3(signature = (space, x, y, constraints, pending, n, seed, acquisition="logei", beta=2.0, n_candidates=512, n_restarts=4, fit_max_points=64, warm=None, warm_constraints=None, noisy=false, trust_region=None))]
#[allow(clippy::too_many_arguments)] // mirrors BoOptions field by field
fn bo_suggest_constrained<'py>(
    py: Python<'py>,
    space: &PySpace,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    constraints: PyReadonlyArray2<'py, f64>,
    pending: PyReadonlyArray2<'py, f64>,
    n: usize,
    seed: u64,
    acquisition: &str,
    beta: f64,
    n_candidates: usize,
    n_restarts: usize,
    fit_max_points: usize,
    warm: Option<Vec<f64>>,
    warm_constraints: Option<Vec<Vec<f64>>>,
    noisy: bool,
    trust_region: Option<usize>,
) -> PyResult<ConstrainedSuggestion<'py>> {
    let d = space.inner.len();
    let (x, y, pending) = history_of(space, &x, &y, &pending)?;
    let view = constraints.as_array();
    let (rows, width) = view.dim();
    if rows != y.len() {
        return Err(value_error(format!(
            "constraints must have one row per completed trial ({}), got {rows}",
            y.len()
        )));
    }
    let cvals: Vec<f64> = view.iter().copied().collect();
    if cvals.iter().any(|v| v.is_infinite()) {
        return Err(value_error(
            "constraints must be finite (NaN marks a missing value)",
        ));
    }
    let options = bo::BoOptions {
        acquisition: acquisition_of(acquisition, beta)?,
        n_candidates,
        n_restarts,
        fit_max_points,
        noisy,
        trust_region: trust_region_of(trust_region),
        ..bo::BoOptions::default()
    };
    let warm = state_of(d, warm)?;
    let warm_c = states_of(d, warm_constraints)?;
    let inner = &space.inner;
    let (points, state, states) = py
        .detach(|| {
            let cons = bo::Constraints {
                values: &cvals,
                k: width,
                warm: &warm_c,
            };
            bo::suggest_constrained(
                inner,
                &x,
                &y,
                &cons,
                &pending,
                n,
                seed,
                &options,
                warm.as_ref(),
            )
        })
        .map_err(BindError)?;
    let rows = points.len() / d.max(1);
    Ok((
        matrix(py, points, rows, d)?,
        state.to_vec(),
        states.iter().map(bo::GpState::to_vec).collect(),
    ))
}

/// Suggested points, one state per objective GP and one per constraint GP.
type MultiSuggestion<'py> = (Bound<'py, PyArray2<f64>>, Vec<Vec<f64>>, Vec<Vec<f64>>);

/// A warm-start state passed back from Python, checked for `d` dimensions.
fn state_of(d: usize, warm: Option<Vec<f64>>) -> PyResult<Option<bo::GpState>> {
    warm.map(|theta| bo::GpState::from_vec(d, &theta).map_err(|e| BindError(e).into()))
        .transpose()
}

fn states_of(d: usize, warm: Option<Vec<Vec<f64>>>) -> PyResult<Vec<bo::GpState>> {
    warm.unwrap_or_default()
        .iter()
        .map(|theta| bo::GpState::from_vec(d, theta))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BindError(e).into())
}

/// GP Bayesian optimisation of several objectives at once (`y`: `n x m`, each minimised) by
/// `LogEHVI`, under the outcome constraints `constraints` (`n x k`, `k` may be 0). Returns the
/// points and the fitted states of the objective GPs and of the constraint GPs, to pass back
/// as `warm` and `warm_constraints`.
#[pyfunction]
#[pyo3(signature = (space, x, y, constraints, pending, n, seed, n_candidates=512, n_restarts=4, fit_max_points=64, warm=None, warm_constraints=None, noisy=false))]
#[allow(clippy::too_many_arguments, clippy::many_single_char_names)] // mirrors BoOptions
fn bo_suggest_multi<'py>(
    py: Python<'py>,
    space: &PySpace,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray2<'py, f64>,
    constraints: PyReadonlyArray2<'py, f64>,
    pending: PyReadonlyArray2<'py, f64>,
    n: usize,
    seed: u64,
    n_candidates: usize,
    n_restarts: usize,
    fit_max_points: usize,
    warm: Option<Vec<Vec<f64>>>,
    warm_constraints: Option<Vec<Vec<f64>>>,
    noisy: bool,
) -> PyResult<MultiSuggestion<'py>> {
    let d = space.inner.len();
    let (rows, x) = rows_of(&x, d, "x")?;
    let (_, pending) = rows_of(&pending, d, "pending")?;
    let yv = y.as_array();
    let (y_rows, m) = yv.dim();
    let cv = constraints.as_array();
    let (c_rows, k) = cv.dim();
    if y_rows != rows || c_rows != rows {
        return Err(value_error(format!(
            "y and constraints must have one row per row of x ({rows}), got {y_rows} and {c_rows}"
        )));
    }
    let yvals: Vec<f64> = yv.iter().copied().collect();
    let cvals: Vec<f64> = cv.iter().copied().collect();
    let options = bo::BoOptions {
        n_candidates,
        n_restarts,
        fit_max_points,
        noisy,
        ..bo::BoOptions::default()
    };
    let warm = states_of(d, warm)?;
    let warm_c = states_of(d, warm_constraints)?;
    let inner = &space.inner;
    let (points, states, cstates) = py
        .detach(|| {
            let cons = bo::Constraints {
                values: &cvals,
                k,
                warm: &warm_c,
            };
            bo::suggest_multi(
                inner, &x, &yvals, m, &cons, &pending, n, seed, &options, &warm,
            )
        })
        .map_err(BindError)?;
    let out_rows = points.len() / d.max(1);
    Ok((
        matrix(py, points, out_rows, d)?,
        states.iter().map(bo::GpState::to_vec).collect(),
        cstates.iter().map(bo::GpState::to_vec).collect(),
    ))
}

/// Reusable TPE buffers and sorted orders across calls of one study (results are identical
/// with or without it; it only saves work as the history grows).
#[pyclass(module = "hptune._core", name = "TpeState", frozen)]
struct PyTpeState {
    inner: Mutex<tpe::TpeState>,
}

#[pymethods]
impl PyTpeState {
    #[new]
    fn new() -> Self {
        Self {
            inner: Mutex::new(tpe::TpeState::default()),
        }
    }
}

/// Multivariate TPE: `n` unit points to try next. `y` is minimised; `pending` rows are running
/// or failed trials to avoid.
#[pyfunction]
#[pyo3(signature = (space, x, y, pending, n, seed, n_candidates=24, n_startup_trials=10, gamma=0.1, max_good=25, prior_weight=1.0, state=None))]
#[allow(clippy::too_many_arguments)] // mirrors TpeOptions field by field
fn tpe_suggest<'py>(
    py: Python<'py>,
    space: &PySpace,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    pending: PyReadonlyArray2<'py, f64>,
    n: usize,
    seed: u64,
    n_candidates: usize,
    n_startup_trials: usize,
    gamma: f64,
    max_good: usize,
    prior_weight: f64,
    state: Option<&PyTpeState>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let d = space.inner.len();
    let (x, y, pending) = history_of(space, &x, &y, &pending)?;
    let options = tpe::TpeOptions {
        n_candidates,
        n_startup_trials,
        gamma: tpe::Gamma {
            fraction: gamma,
            max_good,
        },
        prior_weight,
        ..tpe::TpeOptions::default()
    };
    let inner = &space.inner;
    let points = py
        .detach(|| match state {
            Some(state) => {
                // A poisoned lock only means an earlier call panicked mid-update; the state
                // rebuilds itself from the inputs, so its contents can be reused safely.
                let mut guard = state
                    .inner
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                tpe::suggest_with_state(&mut guard, inner, &x, &y, &pending, n, seed, &options)
            }
            None => tpe::suggest(inner, &x, &y, &pending, n, seed, &options),
        })
        .map_err(BindError)?;
    let rows = points.len() / d.max(1);
    matrix(py, points, rows, d)
}

/// Share of each dimension in the importance of a study (PED-ANOVA, see
/// `hptune_core::importance`): unit points `x` (n x d), losses `y` (n, minimised).
#[pyfunction]
#[pyo3(name = "importance", signature = (space, x, y, quantile=0.1))]
fn importance_py(
    py: Python<'_>,
    space: &PySpace,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    quantile: f64,
) -> PyResult<Vec<f64>> {
    let (_, x) = rows_of(&x, space.inner.len(), "x")?;
    let y = y.as_array().to_vec();
    let inner = &space.inner;
    Ok(py
        .detach(|| importance::importance(inner, &x, &y, quantile))
        .map_err(BindError)?)
}

#[pymodule]
mod _core {
    #[pymodule_export]
    use super::{
        PyGrid, PySobol, PySpace, PyTpeState, bo_suggest, bo_suggest_constrained, bo_suggest_multi,
        gp_log_evidence, importance_py, tpe_suggest,
    };

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
