//! Hardware figures (issue "Hardware", section Benchmarks):
//!
//! - `receipt`: rasterising a 30-line receipt with a QR code (the hardware crate's sample
//!   receipt) with the bundled font, on 58 and 80 mm paper: the 1-bit image alone
//!   (`render`) and the whole ESC/POS job (`encode`). Target: under 5 ms.
//! - `scale_latency`: a continuous-protocol frame written to a pseudo-terminal until the app's
//!   `Devices` hands out the matching reading from `drain()`. The UI thread drains every
//!   10 ms, so the figure on screen is this plus at most 10 ms. Target: under 20 ms beyond the
//!   bytes' own transmission time (a 18-byte frame takes 18.75 ms at 9600 baud 8N1; a pty
//!   transmits at once).
//!
//! Run with `cargo bench --bench hardware`.

use std::io::Write;
use std::time::{Duration, Instant};

use comptoir::devices::{DeviceEvent, Devices, RECEIPT_FONT};
use comptoir_hardware::config::ScaleSection;
use comptoir_hardware::printer::{sample_receipt, Paper, Renderer};
use comptoir_hardware::pty::PtyLink;
use comptoir_hardware::scale::{Protocol, Reading, ScaleEvent};
use criterion::{criterion_group, criterion_main, Criterion};

fn receipt(c: &mut Criterion) {
    let receipt = sample_receipt();
    let mut group = c.benchmark_group("receipt");
    for (name, paper) in [("58mm", Paper::Mm58), ("80mm", Paper::Mm80)] {
        let renderer = Renderer::new(RECEIPT_FONT, paper).unwrap();
        let img = renderer.render(&receipt);
        assert_eq!(img.width(), paper.dots());
        group.bench_function(format!("render_{name}"), |b| {
            b.iter(|| renderer.render(std::hint::black_box(&receipt)))
        });
        group.bench_function(format!("encode_{name}"), |b| {
            b.iter(|| renderer.encode(std::hint::black_box(&receipt)))
        });
    }
    group.finish();
}

/// One continuous-protocol line, CRLF included (`ST,GS,+  1.234kg`).
fn frame(grams: i64) -> Vec<u8> {
    format!("ST,GS,+{:>3}.{:03}kg\r\n", grams / 1000, grams % 1000).into_bytes()
}

/// Drains `devices` until the reading of `grams` comes out; panics after 5 s.
fn wait_for(devices: &Devices, grams: i64) {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        for e in devices.drain() {
            if let DeviceEvent::Scale(ScaleEvent::Reading(Reading::Weight(w))) = e {
                if w.grams == grams {
                    return;
                }
            }
        }
        assert!(Instant::now() < end, "no reading of {grams} g within 5 s");
        std::thread::sleep(Duration::from_micros(100));
    }
}

fn scale_latency(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = PtyLink::create(&dir.path().join("scale")).unwrap();
    let section = ScaleSection {
        protocol: Protocol::Continuous,
        port: pty.link().to_path_buf(),
        baud: None,
        data_bits: None,
        parity: None,
        stop_bits: None,
        capacity_g: Some(15_000),
        min_net_g: Some(20),
    };
    let devices = Devices::start(Some(&section), None, None, &dir.path().join("unused.db"));
    // Wait until the driver reads the port: the decoder skips the first (maybe partial) line.
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        pty.master().write_all(b"\r\n").unwrap();
        pty.master().write_all(&frame(1)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let got = devices.drain().into_iter().any(|e| {
            matches!(e, DeviceEvent::Scale(ScaleEvent::Reading(Reading::Weight(w))) if w.grams == 1)
        });
        if got {
            break;
        }
        assert!(Instant::now() < end, "the scale driver never read the pty");
    }
    let mut grams = 1;
    let mut worst = Duration::ZERO;
    let mut group = c.benchmark_group("scale_latency");
    group.bench_function("continuous_frame_to_drain", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                grams = grams % 9_999 + 2;
                let bytes = frame(grams);
                let start = Instant::now();
                pty.master().write_all(&bytes).unwrap();
                wait_for(&devices, grams);
                let took = start.elapsed();
                worst = worst.max(took);
                total += took;
            }
            total
        })
    });
    group.finish();
    // The mean hides the tail: the UI shows a reading at most 10 ms after this.
    println!(
        "scale_latency: worst frame-to-drain {worst:?} (on screen within {:?})",
        worst + Duration::from_millis(10)
    );
    drop(devices);
}

criterion_group!(benches, receipt, scale_latency);
criterion_main!(benches);
