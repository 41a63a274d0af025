//! FETCH (RFC 9051 §6.4.5, §7.5.2; RFC 3501 §6.4.5 for the rev1 RFC822 items; RFC 3516
//! BINARY).

use std::time::UNIX_EPOCH;

use wirecheck_store::{Flag, FlagOp, Flags, StoreError, Uid};

use super::selected::flag_list;
use super::{ServerSession, store_error_text};
use crate::codec::encode::literal;
use crate::mime;
use crate::types::{FetchItem, Section, SectionText, SequenceSet};
use wirecheck_message::Message;
use wirecheck_message::part::{Part, PartKind};

/// Does fetching `item` set `\Seen` (RFC 9051 §6.4.5: BODY[…] "The \Seen flag is implicitly
/// set"; .PEEK does not; RFC 3501: RFC822 and RFC822.TEXT do)?
fn sets_seen(item: &FetchItem) -> bool {
    matches!(
        item,
        FetchItem::Rfc822
            | FetchItem::Rfc822Text
            | FetchItem::BodySection { peek: false, .. }
            | FetchItem::Binary { peek: false, .. }
    )
}

fn needs_content(item: &FetchItem) -> bool {
    !matches!(item, FetchItem::Flags | FetchItem::Uid | FetchItem::InternalDate | FetchItem::Rfc822Size)
}

/// `section` as it is echoed in the response (RFC 9051 §7.5.2 `section`); header field
/// names upper-cased, as most servers send them.
fn section_name(s: &Section) -> String {
    let mut parts: Vec<String> = s.part.iter().map(u32::to_string).collect();
    match &s.text {
        None => {}
        Some(SectionText::Header) => parts.push("HEADER".into()),
        Some(SectionText::Text) => parts.push("TEXT".into()),
        Some(SectionText::Mime) => parts.push("MIME".into()),
        Some(SectionText::HeaderFields(n)) | Some(SectionText::HeaderFieldsNot(n)) => {
            let kw = if matches!(s.text, Some(SectionText::HeaderFields(_))) {
                "HEADER.FIELDS"
            } else {
                "HEADER.FIELDS.NOT"
            };
            let names: Vec<String> = n.iter().map(|x| x.to_ascii_uppercase()).collect();
            parts.push(format!("{kw} ({})", names.join(" ")));
        }
    }
    parts.join(".")
}

/// The octets a section names, or None for a part that does not exist.
fn section_data(msg: &Message, s: &Section) -> Option<Vec<u8>> {
    let root = msg.root();
    let part = root.section(&s.part)?;
    // HEADER / TEXT / HEADER.FIELDS apply to a message: the top one, or the one a
    // message/rfc822 part encapsulates (RFC 9051 §6.4.5).
    let message = || -> Option<&Part> { if s.part.is_empty() { Some(root) } else { part.message() } };
    Some(match &s.text {
        None if s.part.is_empty() => msg.raw().to_vec(),
        None => msg.bytes(&part.body).to_vec(),
        Some(SectionText::Mime) => msg.bytes(&part.header).to_vec(),
        Some(SectionText::Header) => msg.bytes(&message()?.header).to_vec(),
        Some(SectionText::Text) => msg.bytes(&message()?.body).to_vec(),
        Some(SectionText::HeaderFields(n)) => mime::header_fields(msg, message()?, n, false),
        Some(SectionText::HeaderFieldsNot(n)) => mime::header_fields(msg, message()?, n, true),
    })
}

/// `<origin.count>`: the slice, clipped to the data (RFC 9051 §6.4.5: "If the starting
/// octet is beyond the end of the text, an empty string is returned").
fn partial_of(data: &[u8], partial: Option<(u32, u32)>) -> (&[u8], String) {
    match partial {
        None => (data, String::new()),
        Some((origin, count)) => {
            let start = (origin as usize).min(data.len());
            let end = start.saturating_add(count as usize).min(data.len());
            (&data[start..end], format!("<{origin}>"))
        }
    }
}

/// Why one item of one message could not be produced.
enum ItemError {
    /// RFC 3516 §4.3 / RFC 9051 §7.1: a content transfer encoding we cannot undo.
    UnknownCte,
}

impl ServerSession {
    /// RFC 9051 §6.4.5 FETCH and §6.4.9 UID FETCH.
    pub(super) fn fetch(&mut self, tag: &str, uid: bool, set: &SequenceSet, items: &[FetchItem]) {
        let Some(idx) = self.indices(tag, set, uid) else { return };
        let rev2 = self.rev2;
        let Some(sel) = self.selected.as_mut() else { return };
        // Set \Seen first, so that FLAGS in the same response shows it.
        let mut seen_changed: Vec<Uid> = Vec::new();
        if !sel.read_only && items.iter().any(sets_seen) {
            let unseen: Vec<Uid> = idx
                .iter()
                .filter_map(|&i| sel.msgs.get(i))
                .filter(|m| !m.gone && !m.flags.seen)
                .map(|m| m.uid)
                .collect();
            if !unseen.is_empty() {
                match sel.folder.set_flags(&unseen, FlagOp::Add, &Flags::from_flags([Flag::Seen])) {
                    Ok(r) => {
                        for (u, f) in r {
                            if let Some(m) = sel.msgs.iter_mut().find(|m| m.uid == u) {
                                m.flags = f;
                                seen_changed.push(u);
                            }
                        }
                    }
                    Err(e) => return self.tagged(tag, "NO", &store_error_text(&e)),
                }
            }
        }
        let want_content = items.iter().any(needs_content);
        let mut out = Vec::new();
        let mut some_gone = false;
        let mut unknown_cte = false;
        for &i in &idx {
            let Some(m) = sel.msgs.get(i) else { continue };
            if m.gone {
                some_gone = true;
                continue;
            }
            let content = if want_content {
                match sel.folder.read(m.uid) {
                    Ok(b) => Some(mime::parse(mime::to_crlf(b))),
                    Err(StoreError::NoSuchMessage(_)) => {
                        some_gone = true;
                        continue;
                    }
                    Err(e) => {
                        self.flush_bytes(out);
                        return self.tagged(tag, "NO", &store_error_text(&e));
                    }
                }
            } else {
                None
            };
            let recent = !rev2 && sel.recent.contains(&m.uid);
            out.extend_from_slice(format!("* {} FETCH (", i + 1).as_bytes());
            let mut first = true;
            let mut sep = |out: &mut Vec<u8>| {
                if !first {
                    out.push(b' ');
                }
                first = false;
            };
            // RFC 9051 §6.4.9: UID FETCH responses always carry UID.
            if uid || items.contains(&FetchItem::Uid) {
                sep(&mut out);
                out.extend_from_slice(format!("UID {}", m.uid).as_bytes());
            }
            for item in items {
                if *item == FetchItem::Uid {
                    continue;
                }
                sep(&mut out);
                match (item, content.as_ref()) {
                    (FetchItem::Flags, _) => {
                        out.extend_from_slice(format!("FLAGS {}", flag_list(&m.flags, recent)).as_bytes())
                    }
                    (FetchItem::InternalDate, _) => {
                        let secs = m.internal_date.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
                        out.extend_from_slice(
                            format!("INTERNALDATE \"{}\"", crate::date::format_date_time(secs)).as_bytes(),
                        );
                    }
                    (FetchItem::Rfc822Size, _) => {
                        let size = content.as_ref().map_or(m.size, |c| c.raw().len() as u64);
                        out.extend_from_slice(format!("RFC822.SIZE {size}").as_bytes());
                    }
                    (FetchItem::Envelope, Some(msg)) => {
                        out.extend_from_slice(b"ENVELOPE ");
                        mime::envelope(&mut out, &msg.envelope());
                    }
                    (FetchItem::Body, Some(msg)) => {
                        out.extend_from_slice(b"BODY ");
                        mime::body_structure(&mut out, msg.root(), false);
                    }
                    (FetchItem::BodyStructure, Some(msg)) => {
                        out.extend_from_slice(b"BODYSTRUCTURE ");
                        mime::body_structure(&mut out, msg.root(), true);
                    }
                    (FetchItem::Rfc822, Some(msg)) => {
                        out.extend_from_slice(b"RFC822 ");
                        literal(&mut out, msg.raw(), false);
                    }
                    (FetchItem::Rfc822Header, Some(msg)) => {
                        out.extend_from_slice(b"RFC822.HEADER ");
                        literal(&mut out, msg.header_bytes(), false);
                    }
                    (FetchItem::Rfc822Text, Some(msg)) => {
                        out.extend_from_slice(b"RFC822.TEXT ");
                        literal(&mut out, msg.body_bytes(), false);
                    }
                    (FetchItem::BodySection { section, partial, .. }, Some(msg)) => {
                        let data = section_data(msg, section);
                        let (slice, origin) = partial_of(data.as_deref().unwrap_or_default(), *partial);
                        out.extend_from_slice(format!("BODY[{}]{origin} ", section_name(section)).as_bytes());
                        match data {
                            // RFC 9051 §6.4.5: a part that does not exist is NIL.
                            None => out.extend_from_slice(b"NIL"),
                            Some(_) => literal(&mut out, slice, false),
                        }
                    }
                    (FetchItem::Binary { part, partial, .. }, Some(msg)) => {
                        let name = part.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
                        match binary_data(msg, part) {
                            Ok(data) => {
                                let data = data.unwrap_or_default();
                                let (slice, origin) = partial_of(&data, *partial);
                                out.extend_from_slice(format!("BINARY[{name}]{origin} ").as_bytes());
                                literal(&mut out, slice, slice.contains(&0));
                            }
                            Err(ItemError::UnknownCte) => {
                                unknown_cte = true;
                                out.extend_from_slice(format!("BINARY[{name}] NIL").as_bytes());
                            }
                        }
                    }
                    (FetchItem::BinarySize { part }, Some(msg)) => {
                        let name = part.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
                        match binary_data(msg, part) {
                            Ok(data) => out.extend_from_slice(
                                format!("BINARY.SIZE[{name}] {}", data.map_or(0, |d| d.len())).as_bytes(),
                            ),
                            Err(ItemError::UnknownCte) => {
                                unknown_cte = true;
                                out.extend_from_slice(format!("BINARY.SIZE[{name}] NIL").as_bytes());
                            }
                        }
                    }
                    _ => out.extend_from_slice(b"NIL"),
                }
            }
            // RFC 3501 §6.4.5: "if this causes the flags to change, they SHOULD be included
            // as part of the FETCH responses".
            if seen_changed.contains(&m.uid) && !items.contains(&FetchItem::Flags) {
                sep(&mut out);
                out.extend_from_slice(format!("FLAGS {}", flag_list(&m.flags, recent)).as_bytes());
            }
            out.extend_from_slice(b")\r\n");
        }
        self.flush_bytes(out);
        self.sync_selected(false);
        if unknown_cte {
            self.tagged(tag, "NO", "[UNKNOWN-CTE] Cannot decode a content transfer encoding");
        } else if some_gone {
            // RFC 9051 §7.1 EXPUNGEISSUED.
            self.tagged(tag, "OK", "[EXPUNGEISSUED] Some messages were expunged by another session");
        } else {
            self.tagged(tag, "OK", "FETCH completed");
        }
    }

    fn flush_bytes(&mut self, bytes: Vec<u8>) {
        self.send(&bytes);
    }
}

/// RFC 3516 §4.2 BINARY[part]: the part's content with its transfer encoding undone; the
/// whole message (unchanged) for an empty path; None for a part that does not exist.
fn binary_data(msg: &Message, path: &[u32]) -> Result<Option<Vec<u8>>, ItemError> {
    if path.is_empty() {
        return Ok(Some(msg.raw().to_vec()));
    }
    let Some(part) = msg.root().section(path) else { return Ok(None) };
    match &part.kind {
        PartKind::Leaf => mime::decoded_body(msg, part).map(Some).ok_or(ItemError::UnknownCte),
        _ => Ok(Some(msg.bytes(&part.body).to_vec())),
    }
}
