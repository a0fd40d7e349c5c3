//! The record file format: a header, then length-framed records with a
//! checksum each.
//!
//! ```text
//! header:  "hookflow-journal" (16 bytes)  version: u32 LE
//! record:  length: u32 LE  crc32(payload): u32 LE  payload (postcard)
//! ```
//!
//! Reading is total: any byte string gives the records of its longest valid
//! prefix, and says whether the rest was a torn tail (ignored: a write cut
//! short by a crash) or damage in the middle (reported).

use std::path::Path;

use super::error::JournalError;
use super::record::Record;

/// The first bytes of every journal file.
pub(crate) const MAGIC: &[u8; 16] = b"hookflow-journal";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 2;
/// The length of the header.
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 4;
/// Length and checksum in front of every record.
const FRAME_LEN: usize = 8;
/// No record is larger; a larger length is damage.
const MAX_RECORD_LEN: usize = 16 << 20;

/// The header of a new file.
pub(crate) fn header() -> [u8; HEADER_LEN] {
    let mut h = [0; HEADER_LEN];
    h[..MAGIC.len()].copy_from_slice(MAGIC);
    h[MAGIC.len()..].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h
}

/// Appends one framed record to `buf`.
pub(crate) fn encode(record: &Record<'_>, buf: &mut Vec<u8>) -> Result<(), JournalError> {
    let start = buf.len();
    buf.extend_from_slice(&[0; FRAME_LEN]);
    if let Err(e) = postcard::to_io(record, &mut *buf) {
        buf.truncate(start);
        return Err(JournalError::Encode(e.to_string()));
    }
    let len = buf.len() - start - FRAME_LEN;
    if len > MAX_RECORD_LEN {
        buf.truncate(start);
        return Err(JournalError::Encode(format!(
            "a record of {len} bytes is larger than the limit of {MAX_RECORD_LEN}"
        )));
    }
    let crc = crc32fast::hash(&buf[start + FRAME_LEN..]);
    buf[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    buf[start + 4..start + FRAME_LEN].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// The records of one file's bytes.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The records of the valid prefix, in order.
    pub records: Vec<Record<'static>>,
    /// Where the valid prefix ends: appending starts here.
    pub valid_len: u64,
    /// Damage in the middle of the file (the rest was skipped).
    pub damage: Option<JournalError>,
}

/// Reads a whole file's bytes. A file that is not a journal, or is from a
/// newer version, is an error; anything else gives a (possibly empty)
/// prefix of records.
pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Decoded, JournalError> {
    let expected = header();
    if bytes.len() < HEADER_LEN {
        // Empty, or the header's own write was cut short.
        if expected.starts_with(bytes) {
            return Ok(Decoded {
                records: Vec::new(),
                valid_len: 0,
                damage: None,
            });
        }
        // A torn version field after a good magic still reads as torn.
        if bytes.len() > MAGIC.len() && bytes.starts_with(MAGIC) {
            return Ok(Decoded {
                records: Vec::new(),
                valid_len: 0,
                damage: None,
            });
        }
        return Err(JournalError::NotAJournal { path: path.into() });
    }
    if !bytes.starts_with(MAGIC) {
        return Err(JournalError::NotAJournal { path: path.into() });
    }
    let mut v = [0; 4];
    v.copy_from_slice(&bytes[MAGIC.len()..HEADER_LEN]);
    let version = u32::from_le_bytes(v);
    if version == 0 {
        return Err(JournalError::NotAJournal { path: path.into() });
    }
    if version > FORMAT_VERSION {
        return Err(JournalError::UnsupportedVersion {
            path: path.into(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }

    let mut records = Vec::new();
    let mut at = HEADER_LEN;
    let damage = loop {
        let rest = &bytes[at..];
        if rest.len() < FRAME_LEN {
            break None; // end of file, or a torn frame
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD_LEN {
            break Some(corrupt(
                path,
                at,
                format!("record length {len} is out of range"),
            ));
        }
        let Some(payload) = rest[FRAME_LEN..].get(..len) else {
            break None; // a torn last record
        };
        let is_last = rest.len() == FRAME_LEN + len;
        if crc32fast::hash(payload) != crc {
            if is_last {
                break None; // a last record whose write was cut short
            }
            break Some(corrupt(path, at, "checksum mismatch".into()));
        }
        match postcard::take_from_bytes::<Record<'static>>(payload) {
            Ok((record, [])) => records.push(record),
            Ok((_, extra)) => {
                break Some(corrupt(
                    path,
                    at,
                    format!("{} bytes after the record", extra.len()),
                ))
            }
            Err(e) => break Some(corrupt(path, at, format!("unreadable record: {e}"))),
        }
        at += FRAME_LEN + len;
    };
    Ok(Decoded {
        records,
        valid_len: at as u64,
        damage,
    })
}

fn corrupt(path: &Path, at: usize, reason: String) -> JournalError {
    JournalError::Corrupt {
        path: path.into(),
        offset: at as u64,
        reason,
    }
}
