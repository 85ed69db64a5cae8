//! Network settings shared by receivers and exporters: compression codecs with bounded
//! decompression, endpoint helpers.

pub mod compression;
