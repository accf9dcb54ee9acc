//! [`Admission`]: who may hold a connection. A global cap on connections, a cap per address
//! (IPv4 per address, IPv6 per /64, which one host usually holds whole) on connections and on
//! handshakes in flight, and a small pool of extra slots on which a refused or over-the-cap
//! connection is still told why (HTTP 503 or 429) and `/healthz` still answers.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{config::RelayConfig, metrics::Rejection};

/// Connections served beyond the caps only to answer `/healthz` or say why they are refused.
/// They are short (no keep-alive, a short header timeout), so a few suffice.
pub(crate) const OVERFLOW_SLOTS: usize = 64;

/// What one address holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Held {
    connections: usize,
    handshakes: usize,
}

/// The caps and what each address holds against them.
#[derive(Debug)]
pub(crate) struct Admission {
    slots: Arc<Semaphore>,
    overflow: Arc<Semaphore>,
    per_connections: usize,
    per_handshakes: usize,
    held: Mutex<HashMap<IpAddr, Held>>,
}

/// A connection let in: it holds a global slot and its address's count until dropped.
#[derive(Debug)]
pub(crate) struct Ticket {
    _slot: OwnedSemaphorePermit,
    _release: Release,
}

/// The handshake in flight of a connection let in, counted against its address until dropped
/// (when its `Join` is verified, or the connection ends).
#[derive(Debug)]
pub(crate) struct HandshakeTicket {
    _release: Release,
}

/// A connection refused, served on an overflow slot only to say why (and answer `/healthz`).
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) why: Rejection,
    _slot: OwnedSemaphorePermit,
}

/// What [`Admission::admit`] decided.
#[derive(Debug)]
pub(crate) enum Admit {
    In(Ticket, HandshakeTicket),
    Refused(Refused),
    /// Not even an overflow slot: close at once.
    Dropped(Rejection),
}

impl Admission {
    pub(crate) fn new(cfg: &RelayConfig) -> Arc<Self> {
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(cfg.max_connections)),
            overflow: Arc::new(Semaphore::new(OVERFLOW_SLOTS)),
            per_connections: cfg.max_connections_per_address,
            per_handshakes: cfg.max_handshakes_per_address,
            held: Mutex::new(HashMap::new()),
        })
    }

    fn held(&self) -> MutexGuard<'_, HashMap<IpAddr, Held>> {
        // Every update is a single step, so a poisoned map is still consistent.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides on a connection accepted from `ip`.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Admit {
        let key = address_key(ip);
        let why = match self.slots.clone().try_acquire_owned() {
            Err(_) => Rejection::MaxConnections,
            Ok(slot) => {
                let mut held = self.held();
                let entry = held.entry(key).or_default();
                if entry.connections < self.per_connections
                    && entry.handshakes < self.per_handshakes
                {
                    entry.connections += 1;
                    entry.handshakes += 1;
                    let release = |handshake| Release {
                        admission: self.clone(),
                        key,
                        handshake,
                    };
                    return Admit::In(
                        Ticket {
                            _slot: slot,
                            _release: release(false),
                        },
                        HandshakeTicket {
                            _release: release(true),
                        },
                    );
                }
                if *entry == Held::default() {
                    held.remove(&key);
                }
                Rejection::AddressLimit
            }
        };
        match self.overflow.clone().try_acquire_owned() {
            Ok(slot) => Admit::Refused(Refused { why, _slot: slot }),
            Err(_) => Admit::Dropped(why),
        }
    }

    /// Addresses holding at least one connection or handshake.
    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.held().len()
    }
}

impl Ticket {
    /// The key this ticket counts under.
    #[cfg(test)]
    fn key(&self) -> IpAddr {
        self._release.key
    }
}

/// Gives back one count of an address when dropped.
#[derive(Debug)]
struct Release {
    admission: Arc<Admission>,
    key: IpAddr,
    /// A handshake count, else a connection count.
    handshake: bool,
}

impl Drop for Release {
    fn drop(&mut self) {
        let mut held = self.admission.held();
        if let Some(entry) = held.get_mut(&self.key) {
            let count = if self.handshake {
                &mut entry.handshakes
            } else {
                &mut entry.connections
            };
            *count = count.saturating_sub(1);
            if *entry == Held::default() {
                held.remove(&self.key);
            }
        }
    }
}

/// The key an address is counted under: an IPv4 address (also when mapped into IPv6), or the
/// /64 of an IPv6 address, since one host or home is usually given a whole /64.
pub(crate) fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};

    use super::*;

    fn admission(total: usize, per: usize, handshakes: usize) -> Arc<Admission> {
        let mut cfg = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        cfg.max_connections = total;
        cfg.max_connections_per_address = per;
        cfg.max_handshakes_per_address = handshakes;
        Admission::new(&cfg)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(address_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(address_key(ip("192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn an_address_over_its_cap_is_refused_while_others_get_in() {
        let adm = admission(100, 2, 2);
        let a = ip("2001:db8::1");
        let (Admit::In(t1, h1), Admit::In(t2, _h2)) = (adm.admit(a), adm.admit(ip("2001:db8::2")))
        else {
            panic!("the first two get in");
        };
        assert_eq!(t1.key(), t2.key());
        // Same /64: refused, with a reason; another address gets in.
        assert!(matches!(
            adm.admit(ip("2001:db8::3")),
            Admit::Refused(Refused {
                why: Rejection::AddressLimit,
                ..
            })
        ));
        assert!(matches!(
            adm.admit(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Admit::In(..)
        ));
        // A finished handshake frees no connection slot; a closed connection does.
        drop(h1);
        assert!(matches!(adm.admit(a), Admit::Refused(..)));
        drop(t1);
        assert!(matches!(adm.admit(a), Admit::In(..)));
    }

    #[test]
    fn handshakes_in_flight_are_capped_per_address() {
        let adm = admission(100, 10, 1);
        let a = ip("192.0.2.1");
        let Admit::In(_t, h) = adm.admit(a) else {
            panic!("first gets in")
        };
        assert!(matches!(
            adm.admit(a),
            Admit::Refused(Refused {
                why: Rejection::AddressLimit,
                ..
            })
        ));
        drop(h);
        assert!(matches!(adm.admit(a), Admit::In(..)));
    }

    #[test]
    fn global_cap_then_overflow_then_dropped() {
        let adm = admission(1, 10, 10);
        let held = adm.admit(ip("192.0.2.1"));
        let refused: Vec<_> = (0..OVERFLOW_SLOTS)
            .map(|_| adm.admit(ip("192.0.2.2")))
            .collect();
        assert!(refused.iter().all(|r| matches!(
            r,
            Admit::Refused(Refused {
                why: Rejection::MaxConnections,
                ..
            })
        )));
        assert!(matches!(
            adm.admit(ip("192.0.2.3")),
            Admit::Dropped(Rejection::MaxConnections)
        ));
        drop(refused);
        drop(held);
        // Every count is given back: no address is left in the map.
        assert_eq!(adm.addresses(), 0);
    }
}
