//! Tests of resizing and cropping on small gradient and constant images.

use super::*;
use rand::SeedableRng;

/// A 1-channel image whose pixel (y, x) is y * 100 + x.
fn gradient(height: usize, width: usize) -> Image {
    let pixels = (0..height * width).map(|i| ((i / width) * 100 + i % width) as f32).collect();
    Image::new(pixels, 1, height, width)
}

#[test]
fn upsampling_interpolates_between_pixel_centres() {
    let image = Image::new(vec![0.0, 1.0], 1, 1, 2);
    assert_eq!(resize_bilinear(&image, 1, 4).pixels, vec![0.0, 0.25, 0.75, 1.0]);
    let same = gradient(3, 5);
    assert_eq!(resize_bilinear(&same, 3, 5), same);
}

#[test]
fn downsampling_by_two_averages_pixel_pairs_and_keeps_constants() {
    let image = Image::new(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 1, 1, 8);
    let half = resize_bilinear(&image, 1, 4);
    let expected = [0.5, 2.5, 4.5, 6.5];
    // The triangle widened to radius 2 weighs pixels 1/8, 3/8, 3/8, 1/8 around each output centre.
    let interior = &half.pixels[1..3];
    assert!(interior.iter().zip(&expected[1..3]).all(|(a, b)| (a - b).abs() < 1e-5), "{:?}", half.pixels);
    // At the edge the weights 3/4, 3/4, 1/4 of pixels 0, 1, 2 are renormalised: 1.25 / 1.75.
    assert!((half.pixels[0] - 5.0 / 7.0).abs() < 1e-5, "{:?}", half.pixels);
    let constant = Image::new(vec![0.3; 3 * 50 * 70], 3, 50, 70);
    assert!(resize_bilinear(&constant, 17, 23).pixels.iter().all(|v| (v - 0.3).abs() < 1e-6));
}

#[test]
fn center_crop_of_a_gradient_takes_the_middle_window() {
    let cropped = center_crop(&gradient(10, 12), 4);
    assert_eq!((cropped.height, cropped.width), (4, 4));
    assert_eq!(cropped.at(0, 0, 0), 304.0);
    assert_eq!(cropped.at(0, 3, 3), 607.0);
    let padded = center_crop(&gradient(2, 2), 4);
    assert_eq!(padded.pixels[..4], [0.0, 0.0, 0.0, 0.0]);
    assert_eq!((padded.at(0, 1, 1), padded.at(0, 2, 2)), (0.0, 101.0));
}

#[test]
fn evaluation_transform_resizes_short_side_to_256_then_crops_224() {
    let mut rng = StdRng::seed_from_u64(0);
    let eval = ResizeCenterCrop::new(224);
    assert_eq!(eval.scale_size(), 256);
    let wide = resize_short_side(&Image::new(vec![0.5; 3 * 300 * 400], 3, 300, 400), 256);
    assert_eq!((wide.height, wide.width), (256, 341));
    let out = eval.apply(Image::new(vec![0.5; 3 * 400 * 300], 3, 400, 300), &mut rng);
    assert_eq!((out.channels, out.height, out.width), (3, 224, 224));
    let up = Resize { size: 224 }.apply(Image::new(vec![0.1; 3 * 32 * 32], 3, 32, 32), &mut rng);
    assert_eq!((up.height, up.width, up.pixels.len()), (224, 224, 3 * 224 * 224));
}
