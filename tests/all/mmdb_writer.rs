//! A minimal MaxMind DB (MMDB) writer for the `--ip-db` tests, after the format specification
//! (https://maxmind.github.io/MaxMind-DB/): an IPv4 binary search tree with 24-bit records,
//! the 16-byte data-section separator, the data section, then `\xAB\xCD\xEFMaxMind.com` and
//! the metadata map.

/// A data-section value.
pub enum V {
    Str(&'static str),
    U16(u16),
    U32(u32),
    U64(u64),
    F64(f64),
    Map(Vec<(&'static str, V)>),
    Arr(Vec<V>),
}

/// Control byte(s) for a type and a payload size.
fn control(out: &mut Vec<u8>, ty: u8, size: usize) {
    let (five, ext): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 285 {
        (29, vec![(size - 29) as u8])
    } else if size < 65_821 {
        let s = (size - 285) as u16;
        (30, s.to_be_bytes().to_vec())
    } else {
        let s = (size - 65_821) as u32;
        (31, s.to_be_bytes()[1..].to_vec())
    };
    if ty <= 7 {
        out.push((ty << 5) | five);
    } else {
        out.push(five);
        out.push(ty - 7);
    }
    out.extend(ext);
}

fn uint(out: &mut Vec<u8>, ty: u8, v: u64, width: usize) {
    let bytes = v.to_be_bytes();
    let trimmed: Vec<u8> = bytes[8 - width..]
        .iter()
        .copied()
        .skip_while(|&b| b == 0)
        .collect();
    control(out, ty, trimmed.len());
    out.extend(trimmed);
}

pub fn encode(out: &mut Vec<u8>, v: &V) {
    match v {
        V::Str(s) => {
            control(out, 2, s.len());
            out.extend(s.as_bytes());
        }
        V::F64(f) => {
            control(out, 3, 8);
            out.extend(f.to_be_bytes());
        }
        V::U16(n) => uint(out, 5, u64::from(*n), 2),
        V::U32(n) => uint(out, 6, u64::from(*n), 4),
        V::U64(n) => uint(out, 9, *n, 8),
        V::Map(kv) => {
            control(out, 7, kv.len());
            for (k, v) in kv {
                encode(out, &V::Str(k));
                encode(out, v);
            }
        }
        V::Arr(xs) => {
            control(out, 11, xs.len());
            for x in xs {
                encode(out, x);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// An IPv4-only database (`ip_version` 4) mapping each network (`"203.0.113.0/24"`) to its
/// record. Networks must not overlap.
pub fn ipv4_db(database_type: &'static str, networks: Vec<(&str, V)>) -> Vec<u8> {
    let mut data = Vec::new();
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    for (net, value) in networks {
        let (addr, len) = net.split_once('/').unwrap();
        let addr: std::net::Ipv4Addr = addr.parse().unwrap();
        let len: usize = len.parse().unwrap();
        let bits = u32::from(addr);
        let offset = data.len();
        encode(&mut data, &value);
        let mut node = 0;
        for depth in 0..len {
            let bit = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == len {
                nodes[node][bit] = Rec::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Rec::Node(k) => k,
                    _ => {
                        nodes.push([Rec::Empty, Rec::Empty]);
                        let k = nodes.len() - 1;
                        nodes[node][bit] = Rec::Node(k);
                        k
                    }
                };
            }
        }
    }
    let n = nodes.len();
    let mut out = Vec::new();
    for pair in &nodes {
        for r in pair {
            let v = match *r {
                Rec::Empty => n,
                Rec::Node(k) => k,
                Rec::Data(off) => n + 16 + off,
            } as u32;
            out.extend(&v.to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(data);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    encode(
        &mut out,
        &V::Map(vec![
            ("node_count", V::U32(n as u32)),
            ("record_size", V::U16(24)),
            ("ip_version", V::U16(4)),
            ("database_type", V::Str(database_type)),
            ("languages", V::Arr(vec![V::Str("en")])),
            ("binary_format_major_version", V::U16(2)),
            ("binary_format_minor_version", V::U16(0)),
            ("build_epoch", V::U64(1_700_000_000)),
            (
                "description",
                V::Map(vec![("en", V::Str("mailscope test database"))]),
            ),
        ]),
    );
    out
}
