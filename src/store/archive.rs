//! The yearly archive of the journal (`comptoir journal archive`): files an accountant can read
//! and check without Comptoir.
//!
//! The archive of year `Y` (local year of each entry's `time_utc` in the kiosk's time zone)
//! holds the entries from the first one dated in `Y` to the last one dated in `Y`, in seq
//! order. Entries are dated in order (the clock rule), so that is exactly the year's entries;
//! after a journaled time correction (`clock_set`) that went back across New Year, the range
//! stays contiguous so that its chain can still be recomputed.
//!
//! Files written into the output folder, each created new (an existing file is never
//! replaced):
//! - `journal-Y.csv`: RFC 4180 (CRLF, header row `seq,kiosk_id,kind,time_utc,payload,
//!   prev_hash,hash`), the payload exactly as stored;
//! - `journal-Y.json`: an array of the same objects, with `payload` as the stored text and
//!   `payload_parsed` as JSON;
//! - `keys.json`: every `key_registered` entry up to the archive's last seq (`seq`,
//!   `time_utc`, `algorithm`, `public_key` in hex, `signature`, `payload`), so that signatures
//!   made with a key registered in an earlier year can be checked;
//! - `README.txt`: how to verify, in French and English;
//! - `SHA256SUMS`: the SHA-256 of the four files above, in the format of `sha256sum -c`.
//!
//! [`write`] verifies the whole journal first ([`journal::verify`]) and writes nothing when it
//! is broken. Reading happens in one read transaction: a kiosk appending meanwhile changes
//! nothing in what is archived.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};
use rusqlite::Connection;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::journal::{self, JournalError, KIND_KEY_REGISTERED, ZERO_HASH};

/// The CSV header, and the member names of the JSON objects.
pub const COLUMNS: [&str; 7] = [
    "seq",
    "kiosk_id",
    "kind",
    "time_utc",
    "payload",
    "prev_hash",
    "hash",
];

pub const KEYS_FILE: &str = "keys.json";
pub const README_FILE: &str = "README.txt";
pub const SUMS_FILE: &str = "SHA256SUMS";

/// The CSV file of year `year`.
pub fn csv_name(year: i32) -> String {
    format!("journal-{year}.csv")
}

/// The JSON file of year `year`.
pub fn json_name(year: i32) -> String {
    format!("journal-{year}.json")
}

/// The names of every file of the archive of `year`, in writing order.
pub fn file_names(year: i32) -> [String; 5] {
    [
        csv_name(year),
        json_name(year),
        KEYS_FILE.to_string(),
        README_FILE.to_string(),
        SUMS_FILE.to_string(),
    ]
}

/// Why no archive was written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The journal is broken, or could not be read (see [`JournalError::Broken`]).
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The output folder already holds a file of the archive: nothing is replaced.
    #[error("{path} already exists; an archive is never overwritten")]
    Exists { path: PathBuf },
    /// The output path is not a folder.
    #[error("{path} is not a folder")]
    NotAFolder { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A row of the journal cannot be written (verified rows always can).
    #[error("journal entry {seq}: {reason}")]
    Entry { seq: i64, reason: String },
}

/// What was archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveReport {
    pub year: i32,
    pub entries: u64,
    /// The first and last seq archived (`None` for a year without entries).
    pub seqs: Option<(i64, i64)>,
    /// The `prev_hash` of the first entry archived: the last hash of the previous archive.
    pub first_prev_hash: String,
    /// The `hash` of the last entry archived ([`first_prev_hash`](Self::first_prev_hash) when
    /// there is none).
    pub last_hash: String,
    pub keys: u64,
    /// The files written, in writing order.
    pub files: Vec<PathBuf>,
}

/// The local year of an RFC 3339 UTC time.
fn local_year(time_utc: &str, tz: chrono_tz::Tz) -> Option<i32> {
    DateTime::parse_from_rfc3339(time_utc)
        .ok()
        .map(|t| t.with_timezone(&Utc).with_timezone(&tz).year())
}

/// The first and last seq of the entries dated in `year` (local time in `tz`).
pub fn year_range(
    conn: &Connection,
    year: i32,
    tz: chrono_tz::Tz,
) -> Result<Option<(i64, i64)>, JournalError> {
    let mut stmt = conn.prepare("SELECT seq, time_utc FROM journal ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut range: Option<(i64, i64)> = None;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let time: String = row.get(1)?;
        let y = local_year(&time, tz).ok_or_else(|| JournalError::Payload {
            seq,
            reason: format!("bad time_utc {time}"),
        })?;
        if y == year {
            range = Some(match range {
                None => (seq, seq),
                Some((first, _)) => (first, seq),
            });
        }
    }
    Ok(range)
}

/// One object of `journal-Y.json`, members in the order of the CSV columns.
#[derive(serde::Serialize)]
struct JsonEntry<'a> {
    seq: i64,
    kiosk_id: &'a str,
    kind: &'a str,
    time_utc: &'a str,
    payload: &'a str,
    payload_parsed: Value,
    prev_hash: &'a str,
    hash: &'a str,
}

/// A writer that hashes what goes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The files created so far, removed again unless the archive is complete.
struct Created {
    dir: PathBuf,
    made_dir: bool,
    files: Vec<PathBuf>,
    done: bool,
}

impl Drop for Created {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        if self.made_dir {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

impl Created {
    /// Creates `name` in the folder, failing if it exists.
    fn create(&mut self, name: &str) -> Result<(PathBuf, Hashing<BufWriter<File>>), ArchiveError> {
        let path = self.dir.join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| {
                if source.kind() == std::io::ErrorKind::AlreadyExists {
                    ArchiveError::Exists { path: path.clone() }
                } else {
                    ArchiveError::Io {
                        path: path.clone(),
                        source,
                    }
                }
            })?;
        self.files.push(path.clone());
        Ok((
            path,
            Hashing {
                inner: BufWriter::new(file),
                hasher: Sha256::new(),
            },
        ))
    }
}

/// Flushes and syncs a file; returns its SHA-256 in hex.
fn finish(path: &Path, w: Hashing<BufWriter<File>>) -> Result<String, ArchiveError> {
    let io = |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    };
    let Hashing { inner, hasher } = w;
    let file = inner.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Verifies the journal, then writes the archive of `year` (local time in `tz`) into `dir`
/// (created when missing). Nothing is left behind when it fails.
pub fn write(
    conn: &Connection,
    year: i32,
    tz: chrono_tz::Tz,
    dir: &Path,
) -> Result<ArchiveReport, ArchiveError> {
    // One snapshot for the verification and the copy.
    let tx = conn.unchecked_transaction().map_err(JournalError::from)?;
    journal::verify(&tx)?;
    let range = year_range(&tx, year, tz)?;

    if dir.exists() && !dir.is_dir() {
        return Err(ArchiveError::NotAFolder { path: dir.into() });
    }
    for name in file_names(year) {
        let path = dir.join(name);
        if path.exists() || path.symlink_metadata().is_ok() {
            return Err(ArchiveError::Exists { path });
        }
    }
    let made_dir = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|source| ArchiveError::Io {
        path: dir.into(),
        source,
    })?;
    let mut created = Created {
        dir: dir.into(),
        made_dir,
        files: Vec::new(),
        done: false,
    };

    // The year's entries, one streaming scan written to both files.
    let (first, last) = range.unwrap_or((1, 0));
    let (csv_path, csv_out) = created.create(&csv_name(year))?;
    let (json_path, mut json_out) = created.create(&json_name(year))?;
    let mut csv_w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(csv_out);
    let csv_err = |e: csv::Error| ArchiveError::Io {
        path: csv_path.clone(),
        source: e.into(),
    };
    let json_io = |source| ArchiveError::Io {
        path: json_path.clone(),
        source,
    };
    csv_w.write_record(COLUMNS).map_err(csv_err)?;
    json_out.write_all(b"[").map_err(json_io)?;
    let mut entries = 0u64;
    let mut first_prev_hash: Option<String> = None;
    let mut last_hash: Option<String> = None;
    {
        let mut stmt = tx
            .prepare(
                "SELECT seq, kiosk_id, kind, time_utc, payload, prev_hash, hash \
                 FROM journal WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
            )
            .map_err(JournalError::from)?;
        let mut rows = stmt.query([first, last]).map_err(JournalError::from)?;
        while let Some(row) = rows.next().map_err(JournalError::from)? {
            let e = journal::Entry {
                seq: row.get(0).map_err(JournalError::from)?,
                kiosk_id: row.get(1).map_err(JournalError::from)?,
                kind: row.get(2).map_err(JournalError::from)?,
                time_utc: row.get(3).map_err(JournalError::from)?,
                payload: row.get(4).map_err(JournalError::from)?,
                prev_hash: row.get(5).map_err(JournalError::from)?,
                hash: row.get(6).map_err(JournalError::from)?,
            };
            let seq_text = e.seq.to_string();
            csv_w
                .write_record([
                    seq_text.as_str(),
                    &e.kiosk_id,
                    &e.kind,
                    &e.time_utc,
                    &e.payload,
                    &e.prev_hash,
                    &e.hash,
                ])
                .map_err(csv_err)?;
            let parsed: Value =
                serde_json::from_str(&e.payload).map_err(|err| ArchiveError::Entry {
                    seq: e.seq,
                    reason: format!("payload: {err}"),
                })?;
            let object = JsonEntry {
                seq: e.seq,
                kiosk_id: &e.kiosk_id,
                kind: &e.kind,
                time_utc: &e.time_utc,
                payload: &e.payload,
                payload_parsed: parsed,
                prev_hash: &e.prev_hash,
                hash: &e.hash,
            };
            json_out
                .write_all(if entries == 0 { b"\n" } else { b",\n" })
                .map_err(json_io)?;
            serde_json::to_writer(&mut json_out, &object)
                .map_err(|err| json_io(std::io::Error::other(err)))?;
            if first_prev_hash.is_none() {
                first_prev_hash = Some(e.prev_hash.clone());
            }
            last_hash = Some(e.hash);
            entries += 1;
        }
    }
    json_out.write_all(b"\n]\n").map_err(json_io)?;
    let csv_out = csv_w
        .into_inner()
        .map_err(|e| csv_err(csv::Error::from(e.into_error())))?;
    let csv_sum = finish(&csv_path, csv_out)?;
    let json_sum = finish(&json_path, json_out)?;

    // For a year without entries, the chain position is where the year would have started.
    let first_prev_hash = match first_prev_hash {
        Some(h) => h,
        None => hash_before_year(&tx, year, tz)?,
    };
    let last_hash = last_hash.unwrap_or_else(|| first_prev_hash.clone());

    // Keys: every registration up to the archive's end.
    let upto = if range.is_some() {
        last
    } else {
        seq_before_year(&tx, year, tz)?
    };
    let (keys_path, mut keys_out) = created.create(KEYS_FILE)?;
    let keys_io = |source| ArchiveError::Io {
        path: keys_path.clone(),
        source,
    };
    let mut keys = 0u64;
    keys_out.write_all(b"[").map_err(keys_io)?;
    {
        let mut stmt = tx
            .prepare(
                "SELECT seq, time_utc, payload FROM journal WHERE kind = ?1 AND seq <= ?2 \
                 ORDER BY seq",
            )
            .map_err(JournalError::from)?;
        let mut rows = stmt
            .query(rusqlite::params![KIND_KEY_REGISTERED, upto])
            .map_err(JournalError::from)?;
        while let Some(row) = rows.next().map_err(JournalError::from)? {
            let seq: i64 = row.get(0).map_err(JournalError::from)?;
            let time_utc: String = row.get(1).map_err(JournalError::from)?;
            let payload: String = row.get(2).map_err(JournalError::from)?;
            let map: serde_json::Map<String, Value> =
                serde_json::from_str(&payload).map_err(|err| ArchiveError::Entry {
                    seq,
                    reason: format!("payload: {err}"),
                })?;
            let object = serde_json::json!({
                "seq": seq,
                "time_utc": time_utc,
                "algorithm": map.get("algorithm").cloned().unwrap_or(Value::Null),
                "public_key": map.get("public_key").cloned().unwrap_or(Value::Null),
                "signature": map.get("signature").cloned().unwrap_or(Value::Null),
                "payload": payload,
            });
            keys_out
                .write_all(if keys == 0 { b"\n" } else { b",\n" })
                .map_err(keys_io)?;
            serde_json::to_writer(&mut keys_out, &object)
                .map_err(|err| keys_io(std::io::Error::other(err)))?;
            keys += 1;
        }
    }
    keys_out.write_all(b"\n]\n").map_err(keys_io)?;
    let keys_sum = finish(&keys_path, keys_out)?;

    let report = ArchiveReport {
        year,
        entries,
        seqs: range,
        first_prev_hash,
        last_hash,
        keys,
        files: Vec::new(),
    };
    let (readme_path, mut readme_out) = created.create(README_FILE)?;
    readme_out
        .write_all(readme(&report, tz).as_bytes())
        .map_err(|source| ArchiveError::Io {
            path: readme_path.clone(),
            source,
        })?;
    let readme_sum = finish(&readme_path, readme_out)?;

    let mut sums = String::new();
    for (sum, name) in [
        (&csv_sum, csv_name(year)),
        (&json_sum, json_name(year)),
        (&keys_sum, KEYS_FILE.to_string()),
        (&readme_sum, README_FILE.to_string()),
    ] {
        let _ = writeln!(sums, "{sum}  {name}");
    }
    let (sums_path, mut sums_out) = created.create(SUMS_FILE)?;
    sums_out
        .write_all(sums.as_bytes())
        .map_err(|source| ArchiveError::Io {
            path: sums_path.clone(),
            source,
        })?;
    finish(&sums_path, sums_out)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    drop(tx);
    created.done = true;
    Ok(ArchiveReport {
        files: std::mem::take(&mut created.files),
        ..report
    })
}

/// The last seq dated before `year` (0 when none).
fn seq_before_year(conn: &Connection, year: i32, tz: chrono_tz::Tz) -> Result<i64, JournalError> {
    let mut stmt = conn.prepare("SELECT seq, time_utc FROM journal ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut before = 0;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let time: String = row.get(1)?;
        match local_year(&time, tz) {
            Some(y) if y < year => before = seq,
            _ => {}
        }
    }
    Ok(before)
}

/// The hash of the last entry dated before `year` ([`ZERO_HASH`] when none).
fn hash_before_year(
    conn: &Connection,
    year: i32,
    tz: chrono_tz::Tz,
) -> Result<String, JournalError> {
    let seq = seq_before_year(conn, year, tz)?;
    if seq == 0 {
        return Ok(ZERO_HASH.into());
    }
    Ok(
        conn.query_row("SELECT hash FROM journal WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })?,
    )
}

/// The text of `README.txt`: what the files are and how to check them without Comptoir.
pub fn readme(report: &ArchiveReport, tz: chrono_tz::Tz) -> String {
    let y = report.year;
    let (range_fr, range_en) = match report.seqs {
        Some((a, b)) => (format!("seq {a} à {b}"), format!("seq {a} to {b}")),
        None => ("aucune".to_string(), "none".to_string()),
    };
    let mut t = String::new();
    let _ = write!(
        t,
        "\
Comptoir - archive du journal de caisse {y} / cash register journal archive {y}
==============================================================================

Écritures / entries : {n} ({range_fr} / {range_en})
Fuseau horaire de l'année / time zone of the year : {tz}
prev_hash de la première écriture / prev_hash of the first entry :
  {first}
hash de la dernière écriture / hash of the last entry :
  {last}
Clés publiques / public keys : {keys}

",
        n = report.entries,
        tz = tz.name(),
        first = report.first_prev_hash,
        last = report.last_hash,
        keys = report.keys,
    );
    let _ = write!(
        t,
        "\
------------------------------------------------------------------------------
FRANÇAIS
------------------------------------------------------------------------------

Ce dossier contient les écritures du journal inaltérable de Comptoir datées de
l'année {y} (heure locale, fuseau ci-dessus), de la première à la dernière, dans
l'ordre de leur numéro (seq). Il se vérifie sans Comptoir.

Fichiers
- journal-{y}.csv : CSV RFC 4180 (UTF-8, fins de ligne CRLF, ligne d'en-tête),
  colonnes seq, kiosk_id, kind, time_utc, payload, prev_hash, hash. La colonne
  payload est le texte exact enregistré (JSON canonique) : c'est lui qui est haché.
- journal-{y}.json : les mêmes écritures en tableau JSON ; « payload » est le
  texte enregistré, « payload_parsed » le même objet décodé, pour la lecture.
- keys.json : chaque écriture key_registered (enregistrement d'une clé publique
  Ed25519) jusqu'à la fin de cette archive, y compris celles des années
  précédentes : seq, time_utc, algorithm, public_key (hexadécimal, 32 octets),
  signature, payload.
- SHA256SUMS : l'empreinte SHA-256 des fichiers ci-dessus ; vérifier avec
  « sha256sum -c SHA256SUMS ».

1. Le chaînage
Pour chaque écriture :
  hash = SHA-256( prev_hash décodé en 32 octets bruts || octets UTF-8 du payload )
écrit en hexadécimal minuscule. Le payload est pris tel quel, sans jamais le
réencoder. La première écriture du journal (seq 1) a pour prev_hash 32 octets
nuls (64 zéros). D'une écriture à la suivante, seq augmente de 1 sans trou et
prev_hash est égal au hash de l'écriture précédente. Le prev_hash de la première
écriture de cette archive est le hash de la dernière écriture de l'archive de
l'année précédente : les archives successives forment une seule chaîne.
Le payload contient aussi seq, kiosk_id, kind et time_utc, qui doivent être égaux
aux colonnes du même nom.

2. Les signatures
Les clôtures (kind = closure : jour, mois, année ; nombre de tickets, premier et
dernier seq, totaux par taux de TVA, grand total perpétuel) et les
enregistrements de clé (kind = key_registered) sont signés en Ed25519. La
signature est le membre « signature » du payload (128 chiffres hexadécimaux,
64 octets). Elle signe le JSON canonique du payload entier SANS son membre
« signature » : clés d'objet triées selon leurs octets UTF-8, aucun espace,
texte UTF-8 (seuls « \" », « \\ » et les caractères de contrôle sont échappés :
\\b \\f \\n \\r \\t, les autres en \\u00XX hexadécimal minuscule), nombres
entiers seulement. Le payload enregistré est lui-même sous cette forme : il
suffit d'en retirer le membre signature et de le réécrire ainsi.
- key_registered : signé par la clé qu'il enregistre (public_key du payload).
- closure : signé par la clé de la dernière écriture key_registered qui le
  précède ; son membre key_seq donne le seq de cet enregistrement, et son membre
  prev_hash, égal au prev_hash de la ligne, scelle toute la chaîne antérieure.
Les clés publiques sont dans le journal lui-même (keys.json) : aucun fichier de
clé n'est nécessaire. Conservez-les aussi hors de la caisse : une chaîne seule ne
prouve pas qu'un journal n'a pas été réécrit en entier avec une autre clé.

3. Exemple (Python 3, bibliothèque standard)
Voir l'exemple en anglais ci-dessous ; il recalcule le chaînage de journal-{y}.csv
et les chiffres de chaque clôture.

4. Témoins de la tête, et clôtures
Une tête est le couple (seq, hash) d'une écriture. La caisse en garde hors de sa
base : le rapport Z imprimé (« Entrée n° » et le hash sur deux lignes), le
fichier comptoir-heads.txt de chaque dossier de sauvegarde (une ligne par copie :
kiosk_id seq hash time_utc clé fichier) et le fichier <base>.head à côté de la
clé. Pour vérifier une tête notée ailleurs : la ligne de même seq de
journal-{y}.csv doit avoir ce hash. Si elle manque, des écritures ont été
retirées (ou une copie plus ancienne remise à la place) ; si le hash diffère,
le journal a été réécrit depuis.
Pour une clôture (kind = closure) : les écritures sale et refund de first_seq à
last_seq, sans celles marquées \"training\": true, donnent ticket_count (leur
nombre), period_total_cents (somme de total_cents), totals_by_vat_rate (somme
des lignes vat par taux) ; grand_total_cents = grand_total_cents de la clôture
précédente de même période (day, month, year) + period_total_cents. Une clôture
nommée par une écriture closure_voided ultérieure (membre closure_seq) est
annulée : on la saute.

------------------------------------------------------------------------------
ENGLISH
------------------------------------------------------------------------------

This folder holds the entries of Comptoir's inalterable journal dated in {y}
(local time, time zone above), from the first to the last, in seq order. It can
be checked without Comptoir.

Files
- journal-{y}.csv: RFC 4180 CSV (UTF-8, CRLF line ends, header row), columns
  seq, kiosk_id, kind, time_utc, payload, prev_hash, hash. The payload column is
  the exact stored text (canonical JSON): that text is what is hashed.
- journal-{y}.json: the same entries as a JSON array; \"payload\" is the stored
  text, \"payload_parsed\" the same object decoded, for reading.
- keys.json: every key_registered entry (registration of an Ed25519 public key)
  up to the end of this archive, earlier years included: seq, time_utc,
  algorithm, public_key (hex, 32 bytes), signature, payload.
- SHA256SUMS: the SHA-256 of the files above; check with
  \"sha256sum -c SHA256SUMS\".

1. The chain
For each entry:
  hash = SHA-256( prev_hash decoded to 32 raw bytes || UTF-8 bytes of payload )
in lowercase hex. The payload is taken as it is, never re-encoded. The first
entry of the journal (seq 1) has 32 zero bytes (64 zeros) as prev_hash. From one
entry to the next, seq goes up by 1 without gaps and prev_hash equals the
previous entry's hash. The prev_hash of this archive's first entry is the hash
of the last entry of the previous year's archive: successive archives form one
chain. The payload also holds seq, kiosk_id, kind and time_utc, which must equal
the columns of the same names.

2. The signatures
Closures (kind = closure: day, month, year; ticket count, first and last seq,
totals by VAT rate, perpetual grand total) and key registrations
(kind = key_registered) are signed with Ed25519. The signature is the payload's
\"signature\" member (128 hex digits, 64 bytes). It signs the canonical JSON of
the whole payload WITHOUT its \"signature\" member: object keys sorted by their
UTF-8 bytes, no whitespace, UTF-8 text (only '\"', '\\' and control characters
escaped: \\b \\f \\n \\r \\t, the others as \\u00XX in lowercase hex), integers
only. The stored payload is itself in that form: remove the signature member and
write it again that way.
- key_registered: signed by the key it registers (the payload's public_key).
- closure: signed by the key of the latest key_registered entry before it; its
  key_seq member gives that registration's seq, and its prev_hash member, equal
  to the row's prev_hash, seals the whole chain before it.
The public keys are in the journal itself (keys.json): no key file is needed.
Keep them outside the till as well: a chain alone cannot show that a journal was
not rewritten whole with another key.

4. Witnesses of the head, and closures
A head is the pair (seq, hash) of an entry. The till keeps heads outside its
database: the printed Z report (\"Entrée n°\" and the hash on two lines), the
file comptoir-heads.txt of every backup folder (one line per copy: kiosk_id seq
hash time_utc key file) and the file <database>.head beside the key. To check a
head written down elsewhere: the row of journal-{y}.csv with that seq must have
that hash. If the row is missing, entries were removed (or an older copy put in
place); if the hash differs, the journal was rewritten since.
For a closure (kind = closure): the sale and refund entries from first_seq to
last_seq, leaving out those marked \"training\": true, give ticket_count (their
number), period_total_cents (the sum of total_cents) and totals_by_vat_rate (the
vat lines summed by rate); grand_total_cents = the grand_total_cents of the
previous closure of the same period (day, month, year) + period_total_cents. A
closure named by a later closure_voided entry (member closure_seq) is void: skip
it. The example below does both.

3. Example (Python 3, standard library)

    import csv, hashlib, json
    with open(\"journal-{y}.csv\", newline=\"\", encoding=\"utf-8\") as f:
        rows = list(csv.DictReader(f))
    prev, seq = None, None
    for r in rows:
        if prev is not None:
            assert r[\"prev_hash\"] == prev, r[\"seq\"]
            assert int(r[\"seq\"]) == seq + 1, r[\"seq\"]
        h = hashlib.sha256(bytes.fromhex(r[\"prev_hash\"])
                           + r[\"payload\"].encode(\"utf-8\")).hexdigest()
        assert h == r[\"hash\"], r[\"seq\"]
        p = json.loads(r[\"payload\"])
        assert (p[\"seq\"], p[\"kind\"]) == (int(r[\"seq\"]), r[\"kind\"])
        prev, seq = r[\"hash\"], int(r[\"seq\"])
    print(\"chain intact:\", len(rows), \"entries\")

    # Each closure's figures, recomputed from the entries it covers.
    by_seq = {{int(r[\"seq\"]): json.loads(r[\"payload\"]) for r in rows}}
    voided = {{p[\"closure_seq\"] for p in by_seq.values()
              if p[\"kind\"] == \"closure_voided\"}}
    grand, first = {{}}, min(by_seq)
    for s, p in sorted(by_seq.items()):
        if p[\"kind\"] != \"closure\" or s in voided:
            continue
        if p[\"first_seq\"] < first:   # it covers last year's entries too: check it
            grand[p[\"period\"]] = p[\"grand_total_cents\"]   # with both archives
            continue
        tickets = [by_seq[i] for i in range(p[\"first_seq\"], p[\"last_seq\"] + 1)
                   if i in by_seq and by_seq[i][\"kind\"] in (\"sale\", \"refund\")
                   and not by_seq[i].get(\"training\")]
        total = sum(t[\"total_cents\"] for t in tickets)
        assert (p[\"ticket_count\"], p[\"period_total_cents\"]) == (len(tickets), total), s
        if p[\"period\"] in grand:   # the first closure of the archive starts from its own
            assert p[\"grand_total_cents\"] == grand[p[\"period\"]] + total, s
        grand[p[\"period\"]] = p[\"grand_total_cents\"]
    print(\"closures agree\")

    # A head written down elsewhere (Z report, backup manifest, head file):
    def has_head(seq, hash_hex):
        return any(int(r[\"seq\"]) == seq and r[\"hash\"] == hash_hex for r in rows)

    # The message a signature signs (then check it with any Ed25519 tool,
    # e.g. the Python package \"cryptography\": Ed25519PublicKey.verify):
    def signed_message(payload_text):
        p = json.loads(payload_text)
        p.pop(\"signature\")
        return json.dumps(p, sort_keys=True, separators=(\",\", \":\"),
                          ensure_ascii=False).encode(\"utf-8\")
"
    );
    t
}
