#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod image_to_video;
pub mod media;
