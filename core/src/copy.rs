//! Short copies without a call to the C library's `memcpy`.
//!
//! A letter is written in pieces of a few bytes (a name, a number, a run
//! of text, a 64-byte chunk of the store), and a `copy_from_slice` of a
//! length the compiler cannot see becomes a call to `memcpy`. musl's, on
//! x86_64, is one `rep movsq`, whose start-up costs more than such a copy:
//! in the static server those calls were 38% of the event loop's time in
//! fan-out (issue 9). Two overlapping copies of a fixed size do the same
//! work in a few moves, whatever the length up to twice that size.

/// Copies `src` into the start of `dst`.
///
/// # Panics
/// If `dst` is shorter than `src`, as `copy_from_slice` does.
#[inline]
pub(crate) fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    let dst = &mut dst[..n];
    match n {
        0 => {}
        1..4 => {
            // First, last and middle: each byte at least once.
            dst[0] = src[0];
            dst[n - 1] = src[n - 1];
            dst[n / 2] = src[n / 2];
        }
        4..8 => halves::<4>(dst, src),
        8..16 => halves::<8>(dst, src),
        16..32 => halves::<16>(dst, src),
        32..=64 => halves::<32>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// The first `N` and the last `N` bytes (which overlap when the length is
/// under `2 * N`), each as one fixed-size copy; `N <= len <= 2 * N`.
#[inline(always)]
fn halves<const N: usize>(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    dst[..N].copy_from_slice(&src[..N]);
    dst[n - N..].copy_from_slice(&src[n - N..]);
}

#[cfg(test)]
mod tests {
    use super::copy_short;

    #[test]
    fn copies_every_length_and_nothing_more() {
        let src: [u8; 600] = core::array::from_fn(|i| (i * 7 + 1) as u8);
        for len in 0..=src.len() {
            for offset in [0, 1, 3] {
                let mut dst = [0u8; 610];
                copy_short(&mut dst[offset..], &src[..len]);
                assert!(dst[..offset].iter().all(|&b| b == 0), "len {len}");
                assert_eq!(&dst[offset..offset + len], &src[..len], "len {len}");
                assert!(dst[offset + len..].iter().all(|&b| b == 0), "len {len}");
            }
        }
    }

    #[test]
    #[should_panic]
    fn a_short_destination_panics_as_copy_from_slice_does() {
        copy_short(&mut [0u8; 3], &[1, 2, 3, 4]);
    }
}
