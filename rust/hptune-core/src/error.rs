//! The one error type of the core crate.

/// Everything that can go wrong inside the core.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An argument is out of its allowed domain (bad bounds, wrong shape, NaN, ...).
    #[error("{0}")]
    InvalidArgument(String),
    /// A grid or index computation does not fit in 64 bits, or an index is past the end.
    #[error("{0}")]
    OutOfRange(String),
    /// A numerical routine could not produce a result (should be rare: routines fall back first).
    #[error("{0}")]
    Numerical(String),
}

/// `Result` with the core's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Shorthand for returning an [`Error::InvalidArgument`].
pub(crate) fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(Error::InvalidArgument(message.into()))
}
