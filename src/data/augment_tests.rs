//! Tests of the random augmentations: shapes, ranges, and exact pixels for flips and shifts.

use super::*;
use rand::SeedableRng;

/// A 2-channel image whose pixel (c, y, x) is c * 1000 + y * 10 + x.
fn numbered(height: usize, width: usize) -> Image {
    let pixels = (0..2 * height * width)
        .map(|i| ((i / (height * width)) * 1000 + (i / width % height) * 10 + i % width) as f32)
        .collect();
    Image::new(pixels, 2, height, width)
}

#[test]
fn flip_mirrors_rows_and_twice_is_identity() {
    let image = numbered(3, 4);
    let flipped = flip_horizontal(&image);
    assert_eq!((flipped.at(0, 0, 0), flipped.at(1, 2, 3)), (3.0, 1020.0));
    assert_eq!(flip_horizontal(&flipped), image);
    let mut rng = StdRng::seed_from_u64(1);
    assert_eq!(RandomHorizontalFlip { probability: 1.0 }.apply(image.clone(), &mut rng), flipped);
    assert_eq!(RandomHorizontalFlip { probability: 0.0 }.apply(image.clone(), &mut rng), image);
}

#[test]
fn shift_moves_a_known_pixel_and_fills_zeros() {
    let mut image = Image::new(vec![0.0; 28 * 28], 1, 28, 28);
    image.pixels[10 * 28 + 12] = 1.0;
    let moved = shift(&image, 2, -1);
    assert_eq!(moved.at(0, 12, 11), 1.0);
    assert_eq!(moved.pixels.iter().sum::<f32>(), 1.0);
    let edge = shift(&numbered(4, 4), 1, 1);
    assert_eq!((edge.at(0, 0, 0), edge.at(0, 1, 1), edge.at(1, 3, 3)), (0.0, 0.0, 1022.0));
}

#[test]
fn random_shift_and_pad_crop_keep_shape_and_stay_within_their_range() {
    let image = numbered(8, 8);
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..50 {
        let out = RandomShift { max_shift: 2 }.apply(image.clone(), &mut rng);
        assert_eq!((out.channels, out.height, out.width), (2, 8, 8));
        // Pixel (4, 4) of the output comes from (4 - dy, 4 - dx) with |dy|, |dx| <= 2.
        let source = out.at(0, 4, 4) as usize;
        assert!((2..=6).contains(&(source / 10)) && (2..=6).contains(&(source % 10)), "{source}");
        let padded = PadRandomCrop { padding: 4 }.apply(image.clone(), &mut rng);
        assert_eq!(padded.pixels.len(), image.pixels.len());
    }
}

#[test]
fn random_resized_crop_windows_fit_and_output_is_square() {
    let crop = RandomResizedCrop::new(16);
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..100 {
        let (top, left, h, w) = crop.window(30, 50, &mut rng);
        assert!(h >= 1 && w >= 1 && top + h <= 30 && left + w <= 50);
        let area = (h * w) as f64 / 1500.0;
        assert!(area < 1.1, "{area}");
    }
    let out = crop.apply(numbered(30, 50), &mut rng);
    assert_eq!((out.channels, out.height, out.width), (2, 16, 16));
    let thin = RandomResizedCrop { size: 4, scale: (1.0, 1.0), ratio: (1.0, 1.0) };
    assert_eq!(thin.window(10, 40, &mut rng), (0, 15, 10, 10), "central fallback for a too-wide image");
}
