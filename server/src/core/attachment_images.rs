//! Re-encoding uploaded images (OriginChats §5.4 `attachments.compression`). Decoding and
//! writing the pixels again drops every metadata block (EXIF location and camera data
//! included) after the EXIF orientation has been applied, and the image is shrunk to fit the
//! configured box. JPEG is written at the configured quality (transparent pixels over white),
//! PNG at its compression level. WebP is re-encoded only when it must shrink, losslessly: the
//! image crate has no lossy WebP encoder, and a lossless copy of a photo would be larger than
//! the upload. GIFs are kept as uploaded so their animation survives (the reference keeps only
//! the first frame). SVG is not a raster image.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageDecoder, ImageReader, Rgb, RgbImage};
use serde::{Deserialize, Serialize};
use std::io::{BufReader, BufWriter, Cursor};
use std::path::Path;

/// `[files.compression]`, with the reference's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompressionConfig {
    /// Re-encode OriginChats image uploads at all.
    pub enabled: bool,
    pub max_width: u32,
    pub max_height: u32,
    /// 1–100.
    pub jpeg_quality: u8,
    /// zlib level 0–9.
    pub png_compression: u8,
}

impl Default for CompressionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_width: 1920,
            max_height: 1920,
            jpeg_quality: 85,
            png_compression: 6,
        }
    }
}

impl CompressionConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_width == 0 || self.max_height == 0 {
            return Err("files.compression.max_width and max_height must be at least 1".into());
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err("files.compression.jpeg_quality must be between 1 and 100".into());
        }
        if self.png_compression > 9 {
            return Err("files.compression.png_compression must be between 0 and 9".into());
        }
        Ok(())
    }
}

/// The formats this module rewrites.
pub fn recodes(mime: &str) -> bool {
    matches!(mime, "image/jpeg" | "image/png" | "image/webp")
}

/// Rewrites the image at `path` in place as `mime`. Returns the stored image's dimensions, or
/// None when the file is not a decodable image of a recoded kind (it is then kept as it is).
pub fn recode(path: &Path, mime: &str, cfg: &CompressionConfig) -> Option<(u32, u32)> {
    if !recodes(mime) {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let mut decoder = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .ok()?
        .into_decoder()
        .ok()?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).ok()?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    let too_big = img.width() > cfg.max_width || img.height() > cfg.max_height;
    if too_big {
        // Keeps the aspect ratio, fitting inside the box.
        img = img.resize(
            cfg.max_width,
            cfg.max_height,
            image::imageops::FilterType::Lanczos3,
        );
    }
    if mime == "image/webp" && !too_big {
        return Some((img.width(), img.height()));
    }
    let tmp = path.with_extension("recode");
    let written = write(&img, &tmp, mime, cfg);
    if written.is_none() || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
        return None;
    }
    Some((img.width(), img.height()))
}

fn write(img: &DynamicImage, to: &Path, mime: &str, cfg: &CompressionConfig) -> Option<()> {
    let mut out = BufWriter::new(std::fs::File::create(to).ok()?);
    match mime {
        "image/jpeg" => {
            let rgb = over_white(img);
            let enc = JpegEncoder::new_with_quality(&mut out, cfg.jpeg_quality);
            rgb.write_with_encoder(enc).ok()?;
        }
        "image/png" => {
            let level = match cfg.png_compression {
                0 => CompressionType::Uncompressed,
                n => CompressionType::Level(n),
            };
            let enc = PngEncoder::new_with_quality(&mut out, level, FilterType::Adaptive);
            img.write_with_encoder(enc).ok()?;
        }
        _ => {
            // Lossless WebP takes 8-bit RGB(A).
            let img = if img.color().has_alpha() {
                DynamicImage::ImageRgba8(img.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(img.to_rgb8())
            };
            img.write_with_encoder(WebPEncoder::new_lossless(&mut out))
                .ok()?;
        }
    }
    let file = out.into_inner().ok()?;
    file.sync_all().ok()
}

/// JPEG has no alpha: transparent pixels are laid over white, as the reference does.
fn over_white(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        Rgb([blend(p[0]), blend(p[1]), blend(p[2])])
    })
}

/// Reads an image's dimensions without decoding it (None when it is not a readable image).
pub fn dimensions(path: &Path) -> Option<(u32, u32)> {
    let file = std::fs::File::open(path).ok()?;
    ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgba, RgbaImage};

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "chorus-images-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    /// A JPEG with an EXIF block (a made-up GPS tag) and orientation 6 (rotate 90° clockwise).
    fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, _| Rgb([(x % 256) as u8, 10, 200]));
        let mut jpeg = Vec::new();
        let mut enc = JpegEncoder::new_with_quality(&mut jpeg, 95);
        // TIFF header (little endian), one IFD entry: Orientation (0x0112) = 6.
        let mut exif = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0".to_vec();
        exif.extend_from_slice(b"GPS-SECRET-LOCATION");
        enc.set_exif_metadata(exif).unwrap();
        enc.write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        jpeg
    }

    #[test]
    fn a_large_photo_is_turned_upright_shrunk_and_loses_its_exif() {
        let path = temp("photo.jpg");
        let original = jpeg_with_exif(3000, 1000);
        assert!(original.windows(10).any(|w| w == b"GPS-SECRET"));
        std::fs::write(&path, &original).unwrap();
        let cfg = CompressionConfig::default();
        // Orientation 6: the stored image is 1000×3000 turned upright, then fits 1920×1920.
        assert_eq!(recode(&path, "image/jpeg", &cfg), Some((640, 1920)));
        let stored = std::fs::read(&path).unwrap();
        assert!(!stored.windows(10).any(|w| w == b"GPS-SECRET"));
        assert_eq!(dimensions(&path), Some((640, 1920)));
        let img = image::load_from_memory(&stored).unwrap();
        assert_eq!(img.color(), image::ColorType::Rgb8);
    }

    #[test]
    fn transparent_png_pixels_stay_in_png_and_turn_white_in_jpeg() {
        let img = RgbaImage::from_fn(4, 4, |x, _| {
            if x < 2 {
                Rgba([0, 0, 0, 0])
            } else {
                Rgba([255, 0, 0, 255])
            }
        });
        let mut png = Vec::new();
        PngEncoder::new(&mut png)
            .write_image(img.as_raw(), 4, 4, image::ExtendedColorType::Rgba8)
            .unwrap();
        let path = temp("icon.png");
        std::fs::write(&path, &png).unwrap();
        assert_eq!(
            recode(&path, "image/png", &CompressionConfig::default()),
            Some((4, 4))
        );
        let back = image::open(&path).unwrap().to_rgba8();
        assert_eq!(back.get_pixel(0, 0).0[3], 0, "PNG keeps its alpha");
        assert_eq!(back.get_pixel(3, 0).0, [255, 0, 0, 255]);
        let white = over_white(&DynamicImage::ImageRgba8(img));
        assert_eq!(white.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(white.get_pixel(3, 0).0, [255, 0, 0]);
    }

    #[test]
    fn gifs_and_undecodable_files_are_left_alone() {
        let cfg = CompressionConfig::default();
        let path = temp("broken.jpg");
        std::fs::write(&path, b"not an image").unwrap();
        assert_eq!(recode(&path, "image/jpeg", &cfg), None);
        assert_eq!(std::fs::read(&path).unwrap(), b"not an image");
        assert_eq!(recode(&path, "image/gif", &cfg), None);
    }
}
