//! Network settings shared by receivers and exporters: compression codecs with bounded
//! decompression, TLS (server and client), the receivers' accept loop with its limits,
//! and authentication settings.

pub mod auth;
pub mod body;
pub mod compression;
mod linger;
pub mod listener;
pub mod server;
pub mod tls;
