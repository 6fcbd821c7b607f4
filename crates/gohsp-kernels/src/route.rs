//! Which path a tensor takes: the flex kernels (plain or under autodiff) or burn's composed ops (any other backend).

pub(crate) use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, BackendTypes, DType, Flex};
use burn::tensor::Tensor;
use std::cell::Cell;
use std::mem::MaybeUninit;
use std::thread::LocalKey;

/// The autodiff backend the fused ops implement a backward for (burn's default: no gradient checkpointing).
pub(crate) type FlexAd = Autodiff<Flex, NoCheckpointing>;
/// A float tensor tracked by autodiff on flex.
pub(crate) type TrackedTensor = <FlexAd as BackendTypes>::FloatTensorPrimitive;

/// A tensor taken apart for a fused op.
pub(crate) enum Routed<const D: usize> {
    /// A plain f32 flex tensor (inference, or a constant).
    Plain(FlexTensor),
    /// An f32 flex tensor under autodiff.
    Tracked(TrackedTensor),
    /// Anything else (another backend, another dtype, or composed ops forced): use burn's composed ops.
    Composed(Tensor<D>),
}

thread_local! {
    static FORCE_COMPOSED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the fused ops switched off on this thread, so that burn's composed ops run instead (for tests and
/// benchmarks that compare both paths in one process). The switch is read on the calling thread only.
pub fn with_composed_ops<R>(f: impl FnOnce() -> R) -> R {
    with_switch_on(&FORCE_COMPOSED, f)
}

/// Runs `f` with this thread's `switch` on, then restores its previous value (also when `f` panics).
pub(crate) fn with_switch_on<R>(switch: &'static LocalKey<Cell<bool>>, f: impl FnOnce() -> R) -> R {
    with_thread_value(switch, true, f)
}

/// Runs `f` with this thread's `cell` set to `value`, then restores its previous value (also when `f` panics).
pub(crate) fn with_thread_value<T: Copy + 'static, R>(
    cell: &'static LocalKey<Cell<T>>,
    value: T,
    f: impl FnOnce() -> R,
) -> R {
    /// Puts the previous value back when dropped.
    struct Restore<T: Copy + 'static>(&'static LocalKey<Cell<T>>, T);
    impl<T: Copy + 'static> Drop for Restore<T> {
        fn drop(&mut self) {
            self.0.with(|c| c.set(self.1));
        }
    }
    let _restore = Restore(cell, cell.with(|c| c.replace(value)));
    f()
}

fn composed_forced() -> bool {
    FORCE_COMPOSED.with(Cell::get)
}

/// Takes `tensor` apart: the fused kernels handle f32 tensors on flex, tracked or not.
pub(crate) fn route<const D: usize>(tensor: Tensor<D>) -> Routed<D> {
    if composed_forced() {
        return Routed::Composed(tensor);
    }
    if let Ok(plain) = tensor.clone().try_into_primitive::<Flex>() {
        return if plain.dtype() == DType::F32 { Routed::Plain(plain) } else { Routed::Composed(tensor) };
    }
    match tensor.clone().try_into_primitive::<FlexAd>() {
        Ok(tracked) if tracked.primitive().dtype() == DType::F32 => Routed::Tracked(tracked),
        _ => Routed::Composed(tensor),
    }
}

/// A plain flex tensor back into the tensor API.
pub(crate) fn from_plain<const D: usize>(tensor: FlexTensor) -> Tensor<D> {
    Tensor::from_primitive::<Flex>(tensor)
}

/// A tracked flex tensor back into the tensor API.
pub(crate) fn from_tracked<const D: usize>(tensor: TrackedTensor) -> Tensor<D> {
    Tensor::from_primitive::<FlexAd>(tensor)
}

/// The contiguous f32 values of `tensor` (copied only when it is a strided view).
pub(crate) fn contiguous(tensor: &FlexTensor) -> FlexTensor {
    if tensor.as_slice::<f32>().is_some() { tensor.clone() } else { tensor.to_contiguous() }
}

/// A new f32 flex tensor of `shape` whose values `fill` writes, without zero-filling them first (a `vec![0.0; n]` over
/// reused heap memory is a memset: 3% of a vit_mnist training step's time).
///
/// # Safety
/// `fill` must write every element.
pub(crate) unsafe fn new_tensor(shape: burn::backend::Shape, fill: impl FnOnce(&mut [MaybeUninit<f32>])) -> FlexTensor {
    let len = shape.num_elements();
    let mut values = Vec::with_capacity(len);
    fill(&mut values.spare_capacity_mut()[..len]);
    // SAFETY: `fill` wrote all `len` elements (the caller's contract).
    unsafe { values.set_len(len) };
    FlexTensor::from_data(burn::tensor::TensorData::new(values, shape))
}

/// `tensor` as a uniquely owned, contiguous f32 buffer that can be overwritten (copied only when it is a view,
/// starts at an offset, or is shared).
pub(crate) fn owned(mut tensor: FlexTensor) -> FlexTensor {
    let whole = tensor.as_slice::<f32>().map(<[f32]>::len) == Some(tensor.storage::<f32>().len());
    if !whole {
        tensor = tensor.to_contiguous();
    }
    tensor.storage_mut::<f32>();
    tensor
}

/// The f32 values of a contiguous tensor.
pub(crate) fn values(tensor: &FlexTensor) -> &[f32] {
    tensor.as_slice::<f32>().expect("made contiguous f32 by `contiguous`")
}

impl<const D: usize> Routed<D> {
    /// The tensor again, whatever path it was routed to.
    pub(crate) fn into_tensor(self) -> Tensor<D> {
        match self {
            Routed::Plain(tensor) => from_plain(tensor),
            Routed::Tracked(tensor) => from_tracked(tensor),
            Routed::Composed(tensor) => tensor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{composed_forced, with_composed_ops};

    #[test]
    fn a_switch_is_on_inside_its_closure_and_restored_after_a_panic() {
        assert!(!composed_forced());
        assert!(with_composed_ops(composed_forced));
        let outcome = std::panic::catch_unwind(|| with_composed_ops(|| panic!("a failing comparison")));
        assert!(outcome.is_err());
        assert!(!composed_forced(), "the switch stayed on after the panic");
    }
}
