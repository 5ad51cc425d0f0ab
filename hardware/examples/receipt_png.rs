//! Writes the sample receipt as PNG (raster preview) and as the printer simulator pictures
//! a text-mode job: `cargo run -p comptoir-hardware --example receipt_png -- FONT.ttf OUT_DIR`.

use comptoir_hardware::printer::{
    encode_text, sample_receipt, CodePage, EscPosDecoder, Paper, Renderer,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (font, out) = match args.as_slice() {
        [_, font, out] => (
            std::fs::read(font).expect("font"),
            std::path::PathBuf::from(out),
        ),
        _ => {
            eprintln!("usage: receipt_png FONT.ttf OUT_DIR");
            std::process::exit(2);
        }
    };
    std::fs::create_dir_all(&out).expect("out dir");
    for paper in [Paper::Mm58, Paper::Mm80] {
        let r = Renderer::new(&font, paper).expect("font");
        let start = std::time::Instant::now();
        let img = r.render(&sample_receipt());
        eprintln!("{paper:?}: rendered in {:?}", start.elapsed());
        std::fs::write(
            out.join(format!("raster-{}.png", paper.dots())),
            img.to_png(),
        )
        .unwrap();
        let bytes = encode_text(&sample_receipt(), paper, CodePage::Wpc1252);
        let mut d = EscPosDecoder::new();
        let job = d.push(&bytes).into_iter().find_map(|e| match e {
            comptoir_hardware::printer::decode::Event::Job(j) => Some(j),
            _ => None,
        });
        if let Some(job) = job {
            std::fs::write(
                out.join(format!("text-{}.png", paper.dots())),
                job.render(&r).to_png(),
            )
            .unwrap();
        }
        eprintln!(
            "{paper:?}: raster {} bytes, text {} bytes",
            r.encode(&sample_receipt()).len(),
            bytes.len()
        );
    }
}
