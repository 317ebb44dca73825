//! The gzip bomb behind [`Fault::GzipBomb`](crate::Fault::GzipBomb): about 1 MiB of gzip that
//! inflates to 1 GiB of zero bytes, made once per process and shared.
//!
//! Compressing 1 GiB takes tens of seconds in an unoptimised build, so the body is assembled
//! instead: deflate one chunk of zeros with a full flush (which byte-aligns the stream and
//! forgets the history), check that the next chunk compresses to the same bytes, and repeat those
//! bytes. The CRC-32 of the whole is combined from the chunk's. The result is an ordinary
//! single-member gzip stream (RFC 1952) any decoder accepts, checksum and length included.

use std::sync::OnceLock;

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress, Status};

/// How many zero bytes the bomb inflates to: 1 GiB.
pub const GZIP_BOMB_DECODED_BYTES: u64 = 1 << 30;

const CHUNK: usize = 1 << 20;

/// The bomb, made on first use.
pub(crate) fn gzip_bomb() -> Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| Bytes::from(build(CHUNK, (GZIP_BOMB_DECODED_BYTES as usize) / CHUNK)))
        .clone()
}

/// A gzip stream of `chunk × chunks` zero bytes. `chunks` must be a power of two.
pub(crate) fn build(chunk: usize, chunks: usize) -> Vec<u8> {
    debug_assert!(chunks.is_power_of_two());
    let zeros = vec![0u8; chunk];
    let mut c = Compress::new(Compression::best(), false);
    let first = deflate(&mut c, &zeros, FlushCompress::Full);
    let second = deflate(&mut c, &zeros, FlushCompress::Full);
    let third = deflate(&mut c, &zeros, FlushCompress::Full);

    let mut out = Vec::with_capacity(second.len() * chunks + 64);
    // Header: magic, deflate, no flags, no mtime, "best compression", unknown OS.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    if chunks == 1 {
        out.extend_from_slice(&first);
    } else if second == third {
        out.extend_from_slice(&first);
        for _ in 1..chunks {
            out.extend_from_slice(&second);
        }
    } else {
        // The compressor did not settle into repeating itself: compress it all (slow, correct).
        c = Compress::new(Compression::best(), false);
        for _ in 0..chunks {
            out.extend_from_slice(&deflate(&mut c, &zeros, FlushCompress::None));
        }
    }
    out.extend_from_slice(&deflate(&mut c, &[], FlushCompress::Finish));

    let mut crc = crc32fast::Hasher::new();
    crc.update(&zeros);
    let mut n = 1;
    while n < chunks {
        let half = crc.clone();
        crc.combine(&half);
        n *= 2;
    }
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    // ISIZE: the length modulo 2^32.
    out.extend_from_slice(&((chunk as u64 * chunks as u64) as u32).to_le_bytes());
    out
}

/// Feeds `input` to the compressor with `flush`; returns what it wrote.
fn deflate(c: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 512 + 4096);
    let start = c.total_in();
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(4096));
        }
        let consumed =
            usize::try_from(c.total_in() - start).map_or(input.len(), |n| n.min(input.len()));
        match c.compress_vec(&input[consumed..], &mut out, flush) {
            // A stream error only comes from misusing the API; StreamEnd: finished.
            Err(_) | Ok(Status::StreamEnd) => break,
            Ok(_) => {}
        }
        let all_in = c.total_in() - start >= input.len() as u64;
        // As with zlib: a call that leaves output room unused has written everything.
        if all_in && out.len() < out.capacity() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Inflates `gz`, counting the bytes and checking each is zero; errors on a bad checksum.
    fn inflate_all(gz: &[u8], limit: Option<u64>) -> std::io::Result<u64> {
        let decoder = flate2::read::GzDecoder::new(gz);
        let mut reader: Box<dyn Read> = match limit {
            Some(l) => Box::new(decoder.take(l)),
            None => Box::new(decoder),
        };
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                return Ok(total);
            }
            assert!(buf[..n].iter().all(|&b| b == 0));
            total += n as u64;
        }
    }

    #[test]
    fn a_small_bomb_inflates_whole_with_a_valid_checksum() {
        for (chunk, chunks) in [(1 << 16, 1), (1 << 16, 2), (1 << 16, 64), (5000, 8)] {
            let gz = build(chunk, chunks);
            let total = inflate_all(&gz, None).expect("valid gzip");
            assert_eq!(total, (chunk * chunks) as u64);
        }
    }

    #[test]
    fn the_bomb_is_about_a_mebibyte_announcing_a_gibibyte() {
        let gz = gzip_bomb();
        assert!(
            (900_000..1_200_000).contains(&gz.len()),
            "{} bytes",
            gz.len()
        );
        let isize = u32::from_le_bytes(gz[gz.len() - 4..].try_into().unwrap());
        assert_eq!(u64::from(isize), GZIP_BOMB_DECODED_BYTES % (1 << 32));
        // The first 16 MiB inflate to zeros; the rest is the same bytes repeated.
        let limit = 16 << 20;
        assert_eq!(inflate_all(&gz, Some(limit)).unwrap(), limit);
        assert!(
            gzip_bomb().as_ptr() == gz.as_ptr(),
            "made once, then shared"
        );
    }

    #[test]
    #[ignore = "inflates 1 GiB: slow in a debug build"]
    fn the_bomb_inflates_whole_to_a_gibibyte_with_a_valid_checksum() {
        assert_eq!(
            inflate_all(&gzip_bomb(), None).unwrap(),
            GZIP_BOMB_DECODED_BYTES
        );
    }
}
