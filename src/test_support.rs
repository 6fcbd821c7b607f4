//! Deterministic random test tensors, from the kernels crate (which tests its kernels with the same generators).

pub(crate) use gohsp_kernels::testing::*;
