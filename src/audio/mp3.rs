//! MP3 frame scanning: ID3v2 tags at the start, MPEG audio frame headers,
//! and a streaming walker that finds where the last whole frame ends.

use crate::audio::metadata::unsyncsafe;

/// One MPEG audio frame header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// 1 for MPEG-1, 2 for MPEG-2, 25 for MPEG-2.5.
    pub version: u8,
    pub layer: u8,
    pub bitrate_kbps: u32,
    pub sample_rate: u32,
    pub frame_len: usize,
    pub samples: u32,
}

impl FrameHeader {
    /// Decodes four bytes; `None` unless they are a valid frame header
    /// (free-format bitrate is refused: its frame length is not in the header).
    pub fn parse(b: &[u8]) -> Option<FrameHeader> {
        if b.len() < 4 || b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
            return None;
        }
        let version = match (b[1] >> 3) & 3 {
            0 => 25,
            2 => 2,
            3 => 1,
            _ => return None,
        };
        let layer = match (b[1] >> 1) & 3 {
            1 => 3,
            2 => 2,
            3 => 1,
            _ => return None,
        };
        let br_index = (b[2] >> 4) as usize;
        let sr_index = ((b[2] >> 2) & 3) as usize;
        if br_index == 0 || br_index == 15 || sr_index == 3 {
            return None;
        }
        let padding = u32::from((b[2] >> 1) & 1);
        const V1: [[u32; 15]; 3] = [
            [
                0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
            ],
            [
                0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
            ],
            [
                0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
            ],
        ];
        const V2: [[u32; 15]; 2] = [
            [
                0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
            ],
            [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
        ];
        let bitrate_kbps = if version == 1 {
            V1[layer as usize - 1][br_index]
        } else {
            V2[usize::from(layer != 1)][br_index]
        };
        let base = [44100, 48000, 32000][sr_index];
        let sample_rate = match version {
            1 => base,
            2 => base / 2,
            _ => base / 4,
        };
        let samples = match (version, layer) {
            (_, 1) => 384,
            (1, _) | (_, 2) => 1152,
            _ => 576,
        };
        let bitrate = bitrate_kbps * 1000;
        let frame_len = if layer == 1 {
            (12 * bitrate / sample_rate + padding) * 4
        } else {
            samples / 8 * bitrate / sample_rate + padding
        } as usize;
        Some(FrameHeader {
            version,
            layer,
            bitrate_kbps,
            sample_rate,
            frame_len,
            samples,
        })
    }

    /// True when `next` can follow this header in the same stream.
    pub fn same_stream(&self, next: &FrameHeader) -> bool {
        self.version == next.version
            && self.layer == next.layer
            && self.sample_rate == next.sample_rate
    }
}

/// Length of the ID3v2 tag at the start of `b` (header, body, footer), or
/// `None` when `b` does not start with one. Needs the 10-byte header.
pub(crate) fn id3v2_len(b: &[u8]) -> Option<usize> {
    if b.len() < 10 || &b[..3] != b"ID3" || b[3] == 0xFF || b[4] == 0xFF {
        return None;
    }
    let size = unsyncsafe([b[6], b[7], b[8], b[9]]) as usize;
    let footer = if b[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

/// True when `frame` (a whole first frame) is a Xing/Info/VBRI tag frame:
/// metadata that players read for duration, not audio.
pub(crate) fn is_tag_frame(frame: &[u8]) -> bool {
    let window = &frame[..frame.len().min(64)];
    window
        .windows(4)
        .any(|w| w == b"Xing" || w == b"Info" || w == b"VBRI")
}

/// True when `b` looks like the start of an MP3 stream: an ID3v2 tag, or a
/// frame header followed by a second one where the first frame ends.
pub(crate) fn looks_like_mp3(b: &[u8]) -> bool {
    if id3v2_len(b).is_some() {
        return true;
    }
    match FrameHeader::parse(b) {
        Some(h) => b
            .get(h.frame_len..)
            .and_then(FrameHeader::parse)
            .is_some_and(|n| h.same_stream(&n)),
        None => false,
    }
}

/// Walks an MP3 byte stream fed in pieces, tracking whole frames.
#[derive(Debug, Default)]
pub(crate) struct Walker {
    /// Bytes fed so far.
    seen: u64,
    /// Where the next structure (tag or frame header) starts.
    next_at: u64,
    /// Bytes from `next_at` collected so far.
    buf: Vec<u8>,
    in_tags: bool,
    done: bool,
    /// A frame whose header was read: its header and where it ends.
    open: Option<(FrameHeader, u64)>,
    /// End of the ID3v2 tags (start of the first frame).
    pub audio_start: u64,
    /// End of the last whole frame (or of the tags before any frame).
    pub complete_end: u64,
    /// Whole audio frames (a leading Xing/Info frame is not counted).
    pub frames: u64,
    /// Samples per channel in the whole frames.
    pub samples: u64,
    /// The first frame's header.
    pub first: Option<FrameHeader>,
}

impl Walker {
    pub fn new() -> Walker {
        Walker {
            in_tags: true,
            ..Walker::default()
        }
    }

    /// Feeds the next bytes of the stream.
    pub fn feed(&mut self, mut data: &[u8]) {
        loop {
            self.close_frame();
            if self.done {
                return;
            }
            if self.buf.is_empty() && self.seen < self.next_at {
                let skip = ((self.next_at - self.seen) as usize).min(data.len());
                data = &data[skip..];
                self.seen += skip as u64;
                self.close_frame();
                if self.seen < self.next_at {
                    return;
                }
            }
            let need = self.need();
            if self.buf.len() < need {
                let n = (need - self.buf.len()).min(data.len());
                self.buf.extend_from_slice(&data[..n]);
                data = &data[n..];
                self.seen += n as u64;
                if self.buf.len() < need {
                    return;
                }
            }
            self.process();
        }
    }

    fn need(&self) -> usize {
        match (self.in_tags, self.first) {
            (true, _) => 10,
            // The whole first frame, to tell a Xing/Info frame from audio.
            (false, None) => match FrameHeader::parse(&self.buf) {
                Some(h) if self.buf.len() >= 4 => h.frame_len.max(4),
                _ => 4,
            },
            (false, Some(_)) => 4,
        }
    }

    fn close_frame(&mut self) {
        if let Some((h, end)) = self.open {
            if self.seen >= end {
                self.frames += 1;
                self.samples += u64::from(h.samples);
                self.complete_end = end;
                self.open = None;
            }
        }
    }

    fn process(&mut self) {
        if self.in_tags {
            if let Some(len) = id3v2_len(&self.buf) {
                self.next_at += len as u64;
                self.buf.clear();
                return;
            }
            self.in_tags = false;
            self.audio_start = self.next_at;
            self.complete_end = self.next_at;
            return; // the buffered bytes are re-read as a frame header
        }
        let Some(h) = FrameHeader::parse(&self.buf) else {
            self.done = true;
            return;
        };
        let start = self.next_at;
        let end = start + h.frame_len as u64;
        match self.first {
            None => {
                if self.buf.len() < h.frame_len {
                    return; // need() now asks for the whole frame
                }
                self.first = Some(h);
                if is_tag_frame(&self.buf[..h.frame_len]) {
                    self.complete_end = end;
                } else {
                    self.open = Some((h, end));
                }
            }
            Some(f) if f.same_stream(&h) => self.open = Some((h, end)),
            Some(_) => {
                self.done = true;
                return;
            }
        }
        self.next_at = end;
        // Bytes buffered beyond the header belong to the frame body and are
        // already counted in `seen`.
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake MPEG-2.5 layer III 8 kHz 16 kbit/s frame stream.
    fn frames(n: usize) -> Vec<u8> {
        let h = [0xFF, 0xE3, 0x28, 0xC4];
        let fh = FrameHeader::parse(&h).unwrap();
        assert_eq!(
            (fh.sample_rate, fh.samples, fh.bitrate_kbps),
            (8000, 576, 16)
        );
        let mut out = Vec::new();
        for i in 0..n {
            out.extend_from_slice(&h);
            out.extend(std::iter::repeat_n(i as u8, fh.frame_len - 4));
        }
        out
    }

    #[test]
    fn walker_counts_whole_frames_after_an_id3_tag() {
        let mut m = crate::audio::Metadata::new();
        m.insert("call_id", "7").unwrap();
        let tag = m.to_id3v2();
        let mut stream = tag.clone();
        stream.extend(frames(10));
        let flen = FrameHeader::parse(&[0xFF, 0xE3, 0x28, 0xC4])
            .unwrap()
            .frame_len;
        for cut in [stream.len(), stream.len() - 5, tag.len() + 3 * flen + 2] {
            for piece in [1usize, 7, 1000] {
                let mut w = Walker::new();
                for p in stream[..cut].chunks(piece) {
                    w.feed(p);
                }
                let whole = (cut - tag.len()) / flen;
                assert_eq!(w.audio_start as usize, tag.len());
                assert_eq!(w.frames as usize, whole, "cut {cut} piece {piece}");
                assert_eq!(w.complete_end as usize, tag.len() + whole * flen);
            }
        }
        assert!(looks_like_mp3(&frames(2)));
        assert!(!looks_like_mp3(b"RIFF...."));
    }
}
