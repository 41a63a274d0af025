//! FETCH (RFC 9051 §6.4.5, §7.5.2; RFC 3501 §6.4.5 for the rev1 RFC822 items; RFC 3516
//! BINARY).

use std::time::UNIX_EPOCH;

use wirecheck_store::{Flag, FlagOp, Flags, StoreError, Uid};

use super::selected::flag_list;
use super::{ServerSession, store_error_text};
use crate::codec::encode::literal;
use crate::mime::{self, Part, PartKind};
use crate::types::{FetchItem, Section, SectionText, SequenceSet};

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
fn section_data(msg: &[u8], root: &Part, s: &Section) -> Option<Vec<u8>> {
    let part = root.resolve(&s.part)?;
    let message = || -> Option<&Part> {
        if s.part.is_empty() {
            Some(root)
        } else {
            match &part.kind {
                PartKind::Message(inner) => Some(inner),
                _ => None,
            }
        }
    };
    Some(match &s.text {
        None if s.part.is_empty() => msg.to_vec(),
        None => part.body(msg).to_vec(),
        Some(SectionText::Mime) => part.header(msg).to_vec(),
        Some(SectionText::Header) => message()?.header(msg).to_vec(),
        Some(SectionText::Text) => message()?.body(msg).to_vec(),
        Some(SectionText::HeaderFields(n)) => mime::header_fields(message()?.header(msg), n, false),
        Some(SectionText::HeaderFieldsNot(n)) => mime::header_fields(message()?.header(msg), n, true),
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
                    Ok(b) => Some(mime::to_crlf(b)),
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
            let root = content.as_deref().map(Part::parse);
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
                let body = content.as_deref().unwrap_or_default();
                match (item, root.as_ref()) {
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
                        let size = content.as_ref().map_or(m.size, |c| c.len() as u64);
                        out.extend_from_slice(format!("RFC822.SIZE {size}").as_bytes());
                    }
                    (FetchItem::Envelope, Some(r)) => {
                        out.extend_from_slice(b"ENVELOPE ");
                        mime::envelope(&mut out, r.header(body));
                    }
                    (FetchItem::Body, Some(r)) => {
                        out.extend_from_slice(b"BODY ");
                        mime::body_structure(&mut out, body, r, false);
                    }
                    (FetchItem::BodyStructure, Some(r)) => {
                        out.extend_from_slice(b"BODYSTRUCTURE ");
                        mime::body_structure(&mut out, body, r, true);
                    }
                    (FetchItem::Rfc822, Some(_)) => {
                        out.extend_from_slice(b"RFC822 ");
                        literal(&mut out, body, false);
                    }
                    (FetchItem::Rfc822Header, Some(r)) => {
                        out.extend_from_slice(b"RFC822.HEADER ");
                        literal(&mut out, r.header(body), false);
                    }
                    (FetchItem::Rfc822Text, Some(r)) => {
                        out.extend_from_slice(b"RFC822.TEXT ");
                        literal(&mut out, r.body(body), false);
                    }
                    (FetchItem::BodySection { section, partial, .. }, Some(r)) => {
                        let data = section_data(body, r, section);
                        let (slice, origin) = partial_of(data.as_deref().unwrap_or_default(), *partial);
                        out.extend_from_slice(format!("BODY[{}]{origin} ", section_name(section)).as_bytes());
                        match data {
                            // RFC 9051 §6.4.5: a part that does not exist is NIL.
                            None => out.extend_from_slice(b"NIL"),
                            Some(_) => literal(&mut out, slice, false),
                        }
                    }
                    (FetchItem::Binary { part, partial, .. }, Some(r)) => {
                        let name = part.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
                        match binary_data(body, r, part) {
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
                    (FetchItem::BinarySize { part }, Some(r)) => {
                        let name = part.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
                        match binary_data(body, r, part) {
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
fn binary_data(msg: &[u8], root: &Part, path: &[u32]) -> Result<Option<Vec<u8>>, ItemError> {
    if path.is_empty() {
        return Ok(Some(msg.to_vec()));
    }
    let Some(part) = root.resolve(path) else { return Ok(None) };
    match &part.kind {
        PartKind::Leaf => mime::decoded_body(msg, part).map(Some).ok_or(ItemError::UnknownCte),
        _ => Ok(Some(part.body(msg).to_vec())),
    }
}
