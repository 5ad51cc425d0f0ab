//! The printer and scanner simulators through real pseudo-terminals: receipt -> ESC/POS
//! bytes -> simulator -> PNG, status queries, and scans.

use std::io::Write;
use std::time::{Duration, Instant};

use comptoir_hardware::cards::{decode_scan, CardPayload, ScanLineReader};
use comptoir_hardware::printer::{
    encode_text, query_status, sample_receipt, Bitmap, CodePage, Paper, Renderer,
};
use comptoir_hardware::simulate::{
    PrinterSimCommand, PrinterSimulatorHandle, ScannerSimulatorHandle, SimulatedJob,
};
use comptoir_hardware::transport::{open_serial, SerialSettings};

const FONT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ui/fonts/NotoSans-Regular.ttf"
));

fn qr_payloads(img: &Bitmap) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| if img.get(x as u32, y as u32) { 0 } else { 255 },
    );
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, s)| s))
        .collect()
}

fn print_through_pty(bytes: &[u8], paper: Paper) -> (tempfile::TempDir, SimulatedJob) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("printer");
    let sim = PrinterSimulatorHandle::spawn(&link, &dir.path().join("out"), FONT, paper).unwrap();
    let mut port =
        open_serial(&link, &SerialSettings::n81(115_200), Duration::from_secs(1)).unwrap();
    for chunk in bytes.chunks(1000) {
        port.write_all(chunk).unwrap();
    }
    let job = sim
        .next_job(Duration::from_secs(10))
        .expect("a job within 10 s")
        .unwrap();
    assert!(
        sim.next_job(Duration::from_millis(300)).is_none(),
        "exactly one job"
    );
    sim.stop();
    (dir, job)
}

#[test]
fn raster_receipt_through_the_simulator_matches_the_preview() {
    for paper in [Paper::Mm58, Paper::Mm80] {
        let renderer = Renderer::new(FONT, paper).unwrap();
        let receipt = sample_receipt();
        let preview = renderer.render(&receipt);
        assert_eq!(preview.width(), paper.dots());
        let bytes = renderer.encode(&receipt);
        let (_dir, job) = print_through_pty(&bytes, paper);
        assert!(job.job.cut);
        let printed = Bitmap::from_png(&std::fs::read(&job.png).unwrap()).unwrap();
        assert_eq!(printed, preview, "{paper:?}");
        assert_eq!(
            qr_payloads(&printed),
            ["CPTCBBCCDDFFGGHHJJKKLLNNPPRRSSTTVVXXNRTK"]
        );
        assert!(job.png.ends_with("out/job-0001.png"));
    }
}

#[test]
fn text_receipt_through_the_simulator_keeps_french_text_euro_and_oe() {
    let receipt = sample_receipt();
    let bytes = encode_text(&receipt, Paper::Mm80, CodePage::Wpc1252);
    let (_dir, job) = print_through_pty(&bytes, Paper::Mm80);
    let txt = std::fs::read_to_string(&job.txt).unwrap();
    assert!(txt.contains("Tomates cœur de bœuf 1,234 kg"), "{txt}");
    assert!(txt.contains("Œufs de la ferme x6"), "{txt}");
    assert!(txt.contains("4,32 €"), "{txt}");
    assert!(txt.contains("Merci et à bientôt"), "{txt}");
    assert!(
        txt.ends_with("qr: CPTCBBCCDDFFGGHHJJKKLLNNPPRRSSTTVVXXNRTK\n"),
        "{txt}"
    );
    let printed = Bitmap::from_png(&std::fs::read(&job.png).unwrap()).unwrap();
    assert_eq!(printed.width(), 576);
    assert_eq!(
        qr_payloads(&printed),
        ["CPTCBBCCDDFFGGHHJJKKLLNNPPRRSSTTVVXXNRTK"]
    );
    // PC858: œ written "oe", € still there.
    let bytes = encode_text(&receipt, Paper::Mm58, CodePage::Pc858);
    let (_dir, job) = print_through_pty(&bytes, Paper::Mm58);
    let txt = std::fs::read_to_string(&job.txt).unwrap();
    assert!(txt.contains("Tomates coeur de bo"), "{txt}");
    assert!(txt.contains("4,32 €"), "{txt}");
}

#[test]
fn a_job_without_cut_ends_after_one_second_of_silence() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("printer");
    let sim = PrinterSimulatorHandle::spawn(&link, dir.path(), FONT, Paper::Mm58).unwrap();
    let mut port = open_serial(&link, &SerialSettings::n81(9600), Duration::from_secs(1)).unwrap();
    let sent = Instant::now();
    port.write_all(b"\x1b@\x1bt\x10Bonjour \x80\n").unwrap();
    let job = sim.next_job(Duration::from_secs(3)).unwrap().unwrap();
    assert!(sent.elapsed() >= Duration::from_millis(900));
    assert!(!job.job.cut);
    assert_eq!(std::fs::read_to_string(&job.txt).unwrap(), "Bonjour €\n");
    // ESC @ after data ends a job at once.
    port.write_all(b"un\n\x1b@deux\n\x1dV\x01").unwrap();
    let one = sim.next_job(Duration::from_millis(800)).unwrap().unwrap();
    let two = sim.next_job(Duration::from_millis(800)).unwrap().unwrap();
    assert_eq!(one.job.text(), "un\n");
    assert_eq!(two.job.text(), "deux\n");
    assert!(two.png.ends_with("job-0003.png"));
}

#[test]
fn status_queries_follow_the_simulator_commands() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("printer");
    let sim = PrinterSimulatorHandle::spawn(&link, dir.path(), FONT, Paper::Mm58).unwrap();
    let mut port =
        open_serial(&link, &SerialSettings::n81(9600), Duration::from_millis(50)).unwrap();
    let s = query_status(&mut port, Duration::from_secs(1)).unwrap();
    assert!(s.can_print() && !s.paper_near_end);
    for (cmd, check) in [
        ("paper-near-end", (true, false, false)),
        ("paper-out", (true, true, false)),
        ("paper-ok", (false, false, false)),
        ("cover-open", (false, false, true)),
        ("cover-closed", (false, false, false)),
    ] {
        sim.command(cmd.parse::<PrinterSimCommand>().unwrap());
        std::thread::sleep(Duration::from_millis(30));
        let s = query_status(&mut port, Duration::from_secs(1)).unwrap();
        assert_eq!(
            (s.paper_near_end, s.paper_end, s.cover_open),
            check,
            "{cmd}"
        );
        assert_eq!(
            s.can_print(),
            check == (false, false, false) || check.0 && !check.1
        );
    }
    assert!("jam".parse::<PrinterSimCommand>().is_err());
}

#[test]
fn scanner_simulator_sends_scans_that_decode() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let sim = ScannerSimulatorHandle::spawn(&link).unwrap();
    let mut port =
        open_serial(&link, &SerialSettings::n81(9600), Duration::from_millis(50)).unwrap();
    let card = CardPayload::generate().unwrap();
    sim.scan(&card.encode());
    sim.scan("not a card");
    let mut reader = ScanLineReader::new();
    let mut scans = Vec::new();
    let end = Instant::now() + Duration::from_secs(3);
    let mut buf = [0u8; 64];
    while scans.len() < 2 && Instant::now() < end {
        if let Ok(n) = std::io::Read::read(&mut port, &mut buf) {
            scans.extend(reader.push(&buf[..n]));
        }
    }
    assert_eq!(scans.len(), 2);
    assert_eq!(decode_scan(scans[0].as_ref().unwrap()), Ok(card));
    assert!(decode_scan(scans[1].as_ref().unwrap()).is_err());
}

#[test]
fn printer_link_sends_jobs_and_reads_status_on_a_serial_port() {
    use comptoir_hardware::printer::{PrinterLink, DRAWER_KICK};
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("printer");
    let sim = PrinterSimulatorHandle::spawn(&link, dir.path(), FONT, Paper::Mm58).unwrap();
    let mut printer = PrinterLink::open(&link, &SerialSettings::n81(9600)).unwrap();
    assert!(printer.status().unwrap().can_print());
    let mut job = encode_text(
        &comptoir_hardware::printer::Receipt::new()
            .line("Espèces 10,00 €")
            .cut(),
        Paper::Mm58,
        CodePage::Wpc1252,
    );
    job.splice(2..2, DRAWER_KICK);
    printer.send(&job).unwrap();
    let done = sim.next_job(Duration::from_secs(3)).unwrap().unwrap();
    assert_eq!(done.job.drawer_kicks, 1);
    assert_eq!(done.job.text(), "Espèces 10,00 €\n");
    sim.command(PrinterSimCommand::PaperOut);
    std::thread::sleep(Duration::from_millis(30));
    let s = printer.status().unwrap();
    assert!(s.paper_end && !s.can_print());
}
