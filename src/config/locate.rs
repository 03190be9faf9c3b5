//! Maps key paths (`probe[2].every`) to line numbers and byte offsets back to key paths, so
//! every config error can name both.

use toml_edit::{ImDocument, Item, Table, Value};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index, counted from 0.
    Index(usize),
}

/// Splits `probe[2].expect.status` into segments.
pub fn parse_path(path: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            segs.push(Seg::Key(name.to_owned()));
        }
        while let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').unwrap_or(after.len());
            if let Ok(i) = after[..end].parse() {
                segs.push(Seg::Index(i));
            }
            rest = after.get(end + 1..).unwrap_or("");
        }
    }
    segs
}

/// 1-based line of a byte offset.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line where the deepest existing part of `path` is written.
pub fn line_of_path(doc: &ImDocument<&str>, path: &str) -> Option<usize> {
    let segs = parse_path(path);
    let mut best = None;
    let mut node = Node::Table(doc.as_table());
    for seg in &segs {
        let Some((next, span)) = node.child(seg) else {
            break;
        };
        if let Some(s) = span {
            best = Some(s);
        }
        node = next;
    }
    best.map(|off| line_of_offset(doc.raw(), off))
}

/// The key path of the innermost key or value whose text covers `offset`.
pub fn path_at(doc: &ImDocument<&str>, offset: usize) -> String {
    let mut path = String::new();
    let mut node = Node::Table(doc.as_table());
    'descend: loop {
        for (seg, child, range) in node.children() {
            if range.is_some_and(|r| r.contains(&offset)) {
                match &seg {
                    Seg::Key(k) if path.is_empty() => path.push_str(k),
                    Seg::Key(k) => {
                        path.push('.');
                        path.push_str(k);
                    }
                    Seg::Index(i) => path.push_str(&format!("[{i}]")),
                }
                node = child;
                continue 'descend;
            }
        }
        return path;
    }
}

/// A place in the document that can have children.
#[derive(Clone, Copy)]
enum Node<'a> {
    Table(&'a Table),
    Item(&'a Item),
    Value(&'a Value),
}

type Span = std::ops::Range<usize>;

impl<'a> Node<'a> {
    /// The child at `seg` and the offset where it starts (its key if it has one).
    fn child(self, seg: &Seg) -> Option<(Node<'a>, Option<usize>)> {
        self.children()
            .into_iter()
            .find(|(s, _, _)| s == seg)
            .map(|(_, n, span)| (n, span.map(|r| r.start)))
    }

    /// Every child with the text range it covers (key through value).
    fn children(self) -> Vec<(Seg, Node<'a>, Option<Span>)> {
        match self {
            Node::Table(t) => t
                .iter()
                .filter_map(|(k, _)| {
                    let (key, item) = t.get_key_value(k)?;
                    let span = merge(key.span(), item_span(item));
                    Some((Seg::Key(k.to_owned()), Node::Item(item), span))
                })
                .collect(),
            Node::Item(Item::Table(t)) => Node::Table(t).children(),
            Node::Item(Item::ArrayOfTables(a)) => a
                .iter()
                .enumerate()
                .map(|(i, t)| (Seg::Index(i), Node::Table(t), table_span(t)))
                .collect(),
            Node::Item(Item::Value(v)) => Node::Value(v).children(),
            Node::Item(Item::None) => Vec::new(),
            Node::Value(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (Seg::Index(i), Node::Value(v), v.span()))
                .collect(),
            Node::Value(Value::InlineTable(t)) => t
                .iter()
                .filter_map(|(k, _)| {
                    let (key, v) = (t.key(k)?, t.get(k)?);
                    Some((
                        Seg::Key(k.to_owned()),
                        Node::Value(v),
                        merge(key.span(), v.span()),
                    ))
                })
                .collect(),
            Node::Value(_) => Vec::new(),
        }
    }
}

fn item_span(item: &Item) -> Option<Span> {
    match item {
        Item::Value(v) => v.span(),
        Item::Table(t) => table_span(t),
        Item::ArrayOfTables(a) => a
            .iter()
            .filter_map(table_span)
            .reduce(|a, b| a.start..b.end),
        Item::None => None,
    }
}

/// A table's header plus everything in it.
fn table_span(t: &Table) -> Option<Span> {
    let inner = t
        .iter()
        .filter_map(|(k, _)| {
            let (key, item) = t.get_key_value(k)?;
            merge(key.span(), item_span(item))
        })
        .reduce(|a, b| a.start.min(b.start)..a.end.max(b.end));
    merge(t.span(), inner)
}

fn merge(a: Option<Span>, b: Option<Span>) -> Option<Span> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.start.min(b.start)..a.end.max(b.end)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[server]\nlisten = \"x\"\n\n[[probe]]\nid = \"a\"\n\n[[probe]]\nid = \"b\"\nevery = \"30x\"\nexpect = { status = [200] }\n";

    #[test]
    fn finds_lines_of_paths_and_paths_of_offsets() {
        let doc = ImDocument::parse(TEXT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(line_of_path(&doc, "probe[1].every"), Some(9));
        assert_eq!(line_of_path(&doc, "probe[1].expect.status"), Some(10));
        assert_eq!(line_of_path(&doc, "server.listen"), Some(2));
        let off = TEXT.find("30x").unwrap_or(0);
        assert_eq!(path_at(&doc, off), "probe[1].every");
    }
}
