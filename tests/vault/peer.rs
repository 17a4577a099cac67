//! A peer that answers in Vault's place, for fault tests only (THREATS.md: "answer in Vault's
//! place if TLS is off"): every request is recorded and answered by a closure, with a whole
//! answer or an endless one (a body streamed until the client hangs up, to show it is never
//! read whole). Plain HTTP on loopback; one request per connection (`Connection: close`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A request as the peer saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `GET /v1/secret/data/m HTTP/1.1`
    pub line: String,
    /// Header names lowercased, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    /// The value of header `name` (lowercase), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request's path.
    pub fn path(&self) -> &str {
        self.line.split_whitespace().nth(1).unwrap_or("")
    }
}

/// How the peer answers one request.
pub enum Answer {
    /// This status and JSON body.
    Json(u16, String),
    /// This status, these extra headers and JSON body.
    JsonWith(u16, Vec<(&'static str, String)>, String),
    /// A 200 whose body never ends (up to `total` bytes of `[0,0,0,…`), announced with a
    /// `Content-Length` of `total` or sent chunked without one.
    Endless {
        status: u16,
        total: u64,
        chunked: bool,
    },
}

/// A running peer.
pub struct Peer {
    pub addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    written: Arc<AtomicU64>,
}

impl Peer {
    /// Listen on a loopback port and answer every request with `answer`.
    pub fn start(answer: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::new(AtomicU64::new(0));
        let (log, count) = (seen.clone(), written.clone());
        let answer = Arc::new(answer);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, count, answer) = (log.clone(), count.clone(), answer.clone());
                std::thread::spawn(move || {
                    if let Some(req) = read_request(&stream) {
                        log.lock().unwrap().push(req.clone());
                        respond(stream, answer(&req), &count);
                    }
                });
            }
        });
        Peer {
            addr,
            seen,
            written,
        }
    }

    /// The requests seen so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Body bytes the peer managed to write (endless answers: before the client hung up).
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }
}

fn read_request(stream: &TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        line: line.trim_end().to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn respond(mut stream: TcpStream, answer: Answer, written: &AtomicU64) {
    match answer {
        Answer::Json(status, body) => {
            respond(stream, Answer::JsonWith(status, vec![], body), written)
        }
        Answer::JsonWith(status, headers, body) => {
            let extra: String = headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}\r\n"))
                .collect();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                reason(status),
                body.len()
            );
        }
        Answer::Endless {
            status,
            total,
            chunked,
        } => {
            let length = if chunked {
                "Transfer-Encoding: chunked".to_string()
            } else {
                format!("Content-Length: {total}")
            };
            if write!(
                stream,
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\n{length}\r\nConnection: close\r\n\r\n",
                reason(status)
            )
            .is_err()
            {
                return;
            }
            let mut piece = b"[".to_vec();
            piece.extend(b"0,".repeat(32 * 1024));
            let mut sent = 0u64;
            while sent < total {
                let n = piece.len().min((total - sent) as usize);
                let ok = if chunked {
                    write!(stream, "{n:x}\r\n").is_ok()
                        && stream.write_all(&piece[..n]).is_ok()
                        && stream.write_all(b"\r\n").is_ok()
                } else {
                    stream.write_all(&piece[..n]).is_ok()
                };
                if !ok {
                    return;
                }
                sent += n as u64;
                written.fetch_add(n as u64, Ordering::SeqCst);
                piece[0] = b'0';
            }
            if chunked {
                let _ = stream.write_all(b"0\r\n\r\n");
            }
        }
    }
}
