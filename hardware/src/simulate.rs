//! Simulators served on pseudo-terminals, in-process (demo kiosk, tests) or as the
//! `comptoir scale|printer|scanner simulate` commands.

use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::pty::PtyLink;
use crate::scale::{Protocol, SimCommand};

enum Ctl<C> {
    Cmd(C),
    Unplug(Sender<()>),
    Replug(Sender<io::Result<()>>),
    Stop,
}

/// What a served simulator does with bytes and time; the server handles the pty.
trait Served: Send + 'static {
    type Cmd: Send + 'static;
    fn command(&mut self, cmd: Self::Cmd, now: Instant) -> Vec<u8>;
    fn input(&mut self, bytes: &[u8], now: Instant) -> Vec<u8>;
    fn tick(&mut self, now: Instant) -> Vec<u8>;
}

/// A simulator running on its own thread behind a pty whose slave is at `link`.
struct Server<C> {
    tx: Sender<Ctl<C>>,
    thread: Option<JoinHandle<()>>,
    link: PathBuf,
}

impl<C: Send + 'static> Server<C> {
    fn spawn<S: Served<Cmd = C>>(mut sim: S, link: &Path) -> io::Result<Self> {
        let first = PtyLink::create(link)?;
        let (tx, rx) = mpsc::channel::<Ctl<C>>();
        let link_path = link.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("simulator".into())
            .spawn(move || {
                let mut pty = Some(first);
                let mut buf = [0u8; 1024];
                loop {
                    // Read first, then apply the commands that came meanwhile, so bytes are
                    // always answered with every command sent before them applied.
                    let n = match pty.as_mut() {
                        Some(p) => match p.master().read(&mut buf) {
                            Ok(n) => n,
                            Err(e) if crate::transport::is_timeout(&e) => 0,
                            Err(_) => {
                                std::thread::sleep(Duration::from_millis(10));
                                0
                            }
                        },
                        None => {
                            std::thread::sleep(Duration::from_millis(10));
                            0
                        }
                    };
                    loop {
                        let msg = match rx.try_recv() {
                            Ok(m) => m,
                            Err(mpsc::TryRecvError::Empty) => break,
                            Err(mpsc::TryRecvError::Disconnected) => return,
                        };
                        match msg {
                            Ctl::Cmd(c) => {
                                let out = sim.command(c, Instant::now());
                                send(&mut pty, &out);
                            }
                            Ctl::Unplug(done) => {
                                pty = None;
                                let _ = done.send(());
                            }
                            Ctl::Replug(done) => {
                                let r = PtyLink::create(&link_path).map(|p| pty = Some(p));
                                let _ = done.send(r);
                            }
                            Ctl::Stop => return,
                        }
                    }
                    if n > 0 && pty.is_some() {
                        let out = sim.input(&buf[..n], Instant::now());
                        send(&mut pty, &out);
                    }
                    let out = sim.tick(Instant::now());
                    send(&mut pty, &out);
                }
            })?;
        Ok(Server {
            tx,
            thread: Some(thread),
            link: link.to_path_buf(),
        })
    }

    fn command(&self, cmd: C) {
        let _ = self.tx.send(Ctl::Cmd(cmd));
    }

    fn unplug(&self) {
        let (done, wait) = mpsc::channel();
        if self.tx.send(Ctl::Unplug(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    fn replug(&self) -> io::Result<()> {
        let (done, wait) = mpsc::channel();
        self.tx
            .send(Ctl::Replug(done))
            .map_err(|_| io::Error::other("simulator stopped"))?;
        wait.recv()
            .map_err(|_| io::Error::other("simulator stopped"))?
    }

    fn stop(&mut self) {
        let _ = self.tx.send(Ctl::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<C> Drop for Server<C> {
    fn drop(&mut self) {
        let _ = self.tx.send(Ctl::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn send(pty: &mut Option<PtyLink>, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    if let Some(p) = pty.as_mut() {
        // Nobody reading and the pty buffer full: the bytes are lost, as on a real line.
        let _ = p.master().write_all(bytes);
    }
}

// ---------------------------------------------------------------------------------------
// Scale

struct ServedScale {
    sim: Box<dyn crate::scale::ScaleSimulator>,
    next_tick: Instant,
}

impl Served for ServedScale {
    type Cmd = SimCommand;
    fn command(&mut self, cmd: SimCommand, _now: Instant) -> Vec<u8> {
        self.sim.command(cmd);
        Vec::new()
    }
    fn input(&mut self, bytes: &[u8], _now: Instant) -> Vec<u8> {
        self.sim.on_input(bytes)
    }
    fn tick(&mut self, now: Instant) -> Vec<u8> {
        match self.sim.stream_interval() {
            Some(every) if now >= self.next_tick => {
                self.next_tick = now + every;
                self.sim.on_tick()
            }
            _ => Vec::new(),
        }
    }
}

/// A simulated scale served on a pty, in-process (the demo kiosk, tests).
///
/// The slave end is reachable at `link` as soon as `spawn` returns; it speaks `protocol`'s
/// real bytes. Dropping the handle stops the simulator and removes the link.
pub struct ScaleSimulatorHandle {
    server: Server<SimCommand>,
    protocol: Protocol,
}

impl ScaleSimulatorHandle {
    pub fn spawn(protocol: Protocol, link: &Path) -> io::Result<Self> {
        let served = ServedScale {
            sim: protocol.simulator(),
            next_tick: Instant::now(),
        };
        Ok(ScaleSimulatorHandle {
            server: Server::spawn(served, link)?,
            protocol,
        })
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The path the device side opens.
    pub fn link(&self) -> &Path {
        &self.server.link
    }

    /// Applies a `scale simulate` command (weight, motion, tare...).
    pub fn command(&self, cmd: SimCommand) {
        self.server.command(cmd)
    }

    /// Pulls the cable: closes the pty (the device side sees a hang-up) and removes the link.
    pub fn unplug(&self) {
        self.server.unplug()
    }

    /// Plugs it back: a new pty at the same link.
    pub fn replug(&self) -> io::Result<()> {
        self.server.replug()
    }

    /// Stops the simulator and removes the link.
    pub fn stop(mut self) {
        self.server.stop()
    }
}

/// Reads lines from `input` on a thread, sending each to `tx`; returns at end of input.
fn spawn_line_reader<R: BufRead + Send + 'static>(input: R) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in input.lines() {
            match line {
                Ok(l) => {
                    if tx.send(l).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    rx
}

/// Waits for `stop`, handing each line from `lines` to `f` meanwhile.
fn serve_until_stop(
    lines: &Receiver<String>,
    stop: &AtomicBool,
    mut f: impl FnMut(String),
    mut each_turn: impl FnMut(),
) {
    let mut input_open = true;
    while !stop.load(Ordering::Relaxed) {
        each_turn();
        if input_open {
            match lines.recv_timeout(Duration::from_millis(20)) {
                Ok(l) => f(l),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => input_open = false,
            }
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `comptoir scale simulate --protocol P --link PATH`.
///
/// Creates a pty (`TTYPort::pair`), points `link` at its slave, writes `ready PATH` (PATH as
/// given) to `out`, then serves the protocol's real bytes. Each line of `commands` is a
/// simulator command (`1234`, `-12`, `motion`, `over`, `under`, `silence`, `garbage`,
/// `tare G`, `notare`, `zero`; also `not-zeroed` and `pounds`); a bad line is reported on
/// standard error and ignored. Serves until `stop` is set (the caller sets it on
/// SIGINT/SIGTERM), also after `commands` ends; then removes the link.
pub fn run_scale_simulator<R: BufRead + Send + 'static>(
    protocol: Protocol,
    link: &Path,
    commands: R,
    stop: Arc<AtomicBool>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let sim = ScaleSimulatorHandle::spawn(protocol, link)?;
    writeln!(out, "ready {}", link.display())?;
    out.flush()?;
    let lines = spawn_line_reader(commands);
    serve_until_stop(
        &lines,
        &stop,
        |line| {
            if line.trim().is_empty() {
                return;
            }
            match line.parse::<SimCommand>() {
                Ok(cmd) => sim.command(cmd),
                Err(e) => eprintln!("{e}"),
            }
        },
        || {},
    );
    sim.stop();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Printer

/// A `printer simulate` stdin command: what status queries answer from now on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrinterSimCommand {
    PaperOut,
    PaperNearEnd,
    PaperOk,
    CoverOpen,
    CoverClosed,
}

impl std::str::FromStr for PrinterSimCommand {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "paper-out" => PrinterSimCommand::PaperOut,
            "paper-near-end" => PrinterSimCommand::PaperNearEnd,
            "paper-ok" => PrinterSimCommand::PaperOk,
            "cover-open" => PrinterSimCommand::CoverOpen,
            "cover-closed" => PrinterSimCommand::CoverClosed,
            other => {
                return Err(format!(
                "unknown printer simulator command {other:?} (expected paper-out, paper-near-end, paper-ok, cover-open or cover-closed)"
            ))
            }
        })
    }
}

/// A job the printer simulator wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulatedJob {
    /// `job-0001.png`: the paper as printed.
    pub png: PathBuf,
    /// `job-0001.txt`: the text-mode text, then `qr: PAYLOAD` lines.
    pub txt: PathBuf,
    pub job: crate::printer::DecodedJob,
}

/// A job ends after this much silence.
pub const PRINTER_JOB_SILENCE: Duration = Duration::from_secs(1);
/// Jobs reported and not read yet are kept up to this many (each holds its decoded picture,
/// a few hundred kB); later ones are only written to files. A simulator nobody reads from
/// (the demo kiosk) would otherwise keep every receipt in memory.
pub const PRINTER_JOBS_KEPT: usize = 8;

struct ServedPrinter {
    decoder: crate::printer::EscPosDecoder,
    status: crate::printer::PrinterStatus,
    renderer: crate::printer::Renderer,
    out_dir: PathBuf,
    count: u32,
    last_input: Instant,
    jobs: SyncSender<io::Result<SimulatedJob>>,
}

impl ServedPrinter {
    fn save(&mut self, job: crate::printer::DecodedJob) {
        self.count += 1;
        let name = format!("job-{:04}", self.count);
        let png = self.out_dir.join(format!("{name}.png"));
        let txt = self.out_dir.join(format!("{name}.txt"));
        let r = std::fs::write(&png, job.render(&self.renderer).to_png())
            .and_then(|_| std::fs::write(&txt, job.text()))
            .map(|_| SimulatedJob { png, txt, job });
        // Full (nobody reads): the job is on disk, its report is dropped.
        let _ = self.jobs.try_send(r);
    }
}

impl Served for ServedPrinter {
    type Cmd = PrinterSimCommand;
    fn command(&mut self, cmd: PrinterSimCommand, _now: Instant) -> Vec<u8> {
        let s = &mut self.status;
        match cmd {
            PrinterSimCommand::PaperOut => s.paper_end = true,
            PrinterSimCommand::PaperNearEnd => {
                s.paper_end = false;
                s.paper_near_end = true;
            }
            PrinterSimCommand::PaperOk => {
                s.paper_end = false;
                s.paper_near_end = false;
            }
            PrinterSimCommand::CoverOpen => s.cover_open = true,
            PrinterSimCommand::CoverClosed => s.cover_open = false,
        }
        s.offline = s.paper_end || s.cover_open;
        Vec::new()
    }
    fn input(&mut self, bytes: &[u8], now: Instant) -> Vec<u8> {
        // Status queries (DLE EOT n) are not print data: a kiosk polling the status every
        // second must not keep a job (a lone drawer kick) from ending after the silence.
        let only_status = bytes
            .chunks(3)
            .all(|c| c.len() == 3 && c[0] == 0x10 && c[1] == 0x04);
        if !only_status {
            self.last_input = now;
        }
        let mut answer = Vec::new();
        for e in self.decoder.push(bytes) {
            match e {
                crate::printer::decode::Event::StatusQuery(n) => {
                    answer.push(self.status.byte_for(n))
                }
                crate::printer::decode::Event::Job(job) => self.save(job),
            }
        }
        answer
    }
    fn tick(&mut self, now: Instant) -> Vec<u8> {
        if now.duration_since(self.last_input) >= PRINTER_JOB_SILENCE {
            if let Some(job) = self.decoder.flush() {
                self.save(job);
            }
        }
        Vec::new()
    }
}

/// A simulated ESC/POS printer served on a pty, in-process. It decodes both modes and
/// writes each job to `out_dir` as `job-NNNN.png` and `job-NNNN.txt`; a job ends at a cut,
/// at `ESC @` after data, or after 1 s of silence. `DLE EOT n` queries are answered from
/// the status set by [`PrinterSimulatorHandle::command`].
pub struct PrinterSimulatorHandle {
    server: Server<PrinterSimCommand>,
    jobs: Receiver<io::Result<SimulatedJob>>,
}

impl PrinterSimulatorHandle {
    /// `font_ttf` draws text-mode jobs (like the printer's own font); `paper` sets the
    /// picture's width.
    pub fn spawn(
        link: &Path,
        out_dir: &Path,
        font_ttf: &[u8],
        paper: crate::printer::Paper,
    ) -> io::Result<Self> {
        let renderer = crate::printer::Renderer::new(font_ttf, paper)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        std::fs::create_dir_all(out_dir)?;
        let (tx, jobs) = mpsc::sync_channel(PRINTER_JOBS_KEPT);
        let served = ServedPrinter {
            decoder: crate::printer::EscPosDecoder::new(),
            status: Default::default(),
            renderer,
            out_dir: out_dir.to_path_buf(),
            count: 0,
            last_input: Instant::now(),
            jobs: tx,
        };
        Ok(PrinterSimulatorHandle {
            server: Server::spawn(served, link)?,
            jobs,
        })
    }

    pub fn link(&self) -> &Path {
        &self.server.link
    }

    pub fn command(&self, cmd: PrinterSimCommand) {
        self.server.command(cmd)
    }

    /// The next job written, waiting up to `timeout`.
    pub fn next_job(&self, timeout: Duration) -> Option<io::Result<SimulatedJob>> {
        self.jobs.recv_timeout(timeout).ok()
    }

    pub fn unplug(&self) {
        self.server.unplug()
    }

    pub fn replug(&self) -> io::Result<()> {
        self.server.replug()
    }

    pub fn stop(mut self) {
        self.server.stop()
    }
}

/// `comptoir printer simulate --link PATH --out DIR`.
///
/// Creates a pty, points `link` at it, writes `ready PATH`, then for each job written
/// `job DIR/job-0001.png` (the `.txt` beside it). Lines of `commands`: `paper-out`,
/// `paper-near-end`, `paper-ok`, `cover-open`, `cover-closed`. Serves until `stop`, then
/// removes the link. `font_ttf` and `paper` as in [`PrinterSimulatorHandle::spawn`].
pub fn run_printer_simulator<R: BufRead + Send + 'static>(
    link: &Path,
    out_dir: &Path,
    font_ttf: &[u8],
    paper: crate::printer::Paper,
    commands: R,
    stop: Arc<AtomicBool>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let sim = PrinterSimulatorHandle::spawn(link, out_dir, font_ttf, paper)?;
    writeln!(out, "ready {}", link.display())?;
    out.flush()?;
    let lines = spawn_line_reader(commands);
    let mut result = Ok(());
    let mut report = |out: &mut dyn Write| {
        while let Some(job) = sim.next_job(Duration::ZERO) {
            let r = job.and_then(|j| {
                writeln!(out, "job {}", j.png.display())?;
                out.flush()
            });
            if let Err(e) = r {
                eprintln!("printer simulator: {e}");
                result = Err(e);
            }
        }
    };
    serve_until_stop(
        &lines,
        &stop,
        |line| {
            if line.trim().is_empty() {
                return;
            }
            match line.parse::<PrinterSimCommand>() {
                Ok(cmd) => sim.command(cmd),
                Err(e) => eprintln!("{e}"),
            }
        },
        || report(out),
    );
    report(out);
    sim.stop();
    result
}

// ---------------------------------------------------------------------------------------
// Scanner

struct ServedScanner;

impl Served for ServedScanner {
    type Cmd = String;
    fn command(&mut self, line: String, _now: Instant) -> Vec<u8> {
        let mut b = line.into_bytes();
        b.extend_from_slice(b"\r\n");
        b
    }
    fn input(&mut self, _bytes: &[u8], _now: Instant) -> Vec<u8> {
        Vec::new()
    }
    fn tick(&mut self, _now: Instant) -> Vec<u8> {
        Vec::new()
    }
}

/// A simulated serial QR scanner on a pty: each scan is sent CR LF terminated.
pub struct ScannerSimulatorHandle {
    server: Server<String>,
}

impl ScannerSimulatorHandle {
    pub fn spawn(link: &Path) -> io::Result<Self> {
        Ok(ScannerSimulatorHandle {
            server: Server::spawn(ServedScanner, link)?,
        })
    }

    pub fn link(&self) -> &Path {
        &self.server.link
    }

    /// Sends `text` as one scan (CR LF appended).
    pub fn scan(&self, text: &str) {
        self.server.command(text.to_string())
    }

    pub fn unplug(&self) {
        self.server.unplug()
    }

    pub fn replug(&self) -> io::Result<()> {
        self.server.replug()
    }

    pub fn stop(mut self) {
        self.server.stop()
    }
}

/// `comptoir scanner simulate --link PATH`: creates a pty, points `link` at it, writes
/// `ready PATH`, then sends each line of `lines` as a scan (CR LF terminated). Serves until
/// `stop` (also after `lines` ends), then removes the link.
pub fn run_scanner_simulator<R: BufRead + Send + 'static>(
    link: &Path,
    lines: R,
    stop: Arc<AtomicBool>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let sim = ScannerSimulatorHandle::spawn(link)?;
    writeln!(out, "ready {}", link.display())?;
    out.flush()?;
    let rx = spawn_line_reader(lines);
    serve_until_stop(&rx, &stop, |line| sim.scan(&line), || {});
    sim.stop();
    Ok(())
}
