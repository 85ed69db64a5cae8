//! Tests of the OTLP receiver: real sockets, real clients.
