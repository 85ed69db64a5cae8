//! Batch processor tests.
