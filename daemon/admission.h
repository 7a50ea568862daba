/*
 * admission.h: which connections aspaced takes, in the manner of nginx's
 * limit_conn, HAProxy's maxconn and OpenSSH's MaxStartups.
 *
 * Every connection counts against --max-connections.  A TLS connection
 * is unauthenticated from its accept to its hello's success and counts
 * also in a separate, smaller pool (--max-unauth-connections), which can
 * never take the last slots of the whole (an eighth of
 * --max-connections, at least one, stays for authenticated clients: the
 * Unix socket's, known by their peer credentials, and the TLS
 * connections already through their hello).  Past
 * --unauth-drop-start unauthenticated connections a new one is refused
 * at random, with a chance rising from 30 % to 100 % at the full pool
 * (MaxStartups start:30:full), unless it can take the place of a stalled
 * one (below): early drop keeps the pool from growing, not from being
 * renewed.  A full pool takes a newcomer all the
 * same if its worker can close a stalled connection for it (the oldest
 * that has not finished its TLS handshake in ADM_EVICT_AGE_MS), else
 * refuses it: a flood then holds no slot longer than that against
 * clients that handshake in time.  At most ADM_EVICT_MAX newcomers wait
 * for their worker's verdict, the pool over its size by no more.  Per
 * peer (an IP address; a Unix-socket
 * peer's uid) at most --max-connections-per-address connections, of
 * them at most --max-unauth-per-address unauthenticated.
 *
 * The listener thread admits (admission_admit()); a connection's worker
 * says when it authenticates or closes.  The counts are under one mutex:
 * one lock per accept and per close.
 */
#ifndef ASPACED_ADMISSION_H
#define ASPACED_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define ADM_EVICT_AGE_MS	1000	/* a connection stalled this long */
#define ADM_EVICT_MAX		16	/* evictions pending at once */

/* A peer, the key of the per-address counts. */
struct adm_peer {
	uint8_t		 fam;		/* AF_INET, AF_INET6 or AF_UNIX */
	uint8_t		 a[16];		/* the address; a uid for AF_UNIX */
};

/* The limits, read at each admission (they change at a reload). */
struct adm_limits {
	unsigned int	 max_conns;
	unsigned int	 max_unauth;
	unsigned int	 drop_start;	/* unauth count; 0: no early drop */
	unsigned int	 per_addr;	/* 0: none */
	unsigned int	 per_addr_unauth;	/* 0: none */
};

enum adm_verdict {
	ADM_OK,
	ADM_FULL,		/* over max_conns */
	ADM_RESERVED,		/* unauthenticated: the last slots are kept */
	ADM_UNAUTH_FULL,	/* the unauthenticated pool is full (and
				 * ADM_EVICT_MAX evictions are pending) */
	ADM_EVICT,		/* admitted over the full pool, counted:
				 * the caller closes a stalled one for it
				 * (or refuses it, admission_release()),
				 * then calls admission_evicted() */
	ADM_EVICT_DROP,		/* the same, chosen by random early drop:
				 * refused if nothing is stalled */
	ADM_EARLY_DROP,		/* random early drop */
	ADM_PER_ADDR,		/* the peer's connections */
	ADM_PER_ADDR_UNAUTH,	/* the peer's unauthenticated ones */
};

struct admission;

struct admission *admission_new(void);
void admission_free(struct admission *adm);
/* The peer of an accepted socket: sa (from accept), or uid for a Unix
 * peer (sa NULL). */
void adm_peer_of(struct adm_peer *p, const struct sockaddr *sa, uid_t uid);
/*
 * May p connect (unauthenticated if unauth)?  ADM_OK counts it (admission_
 * release() undoes it); any other verdict counts nothing.
 */
enum adm_verdict admission_admit(struct admission *adm,
    const struct adm_limits *l, const struct adm_peer *p, bool unauth);
/* Is v an admission with an eviction (ADM_EVICT, ADM_EVICT_DROP)? */
static inline bool adm_evicts(enum adm_verdict v)
{
	return v == ADM_EVICT || v == ADM_EVICT_DROP;
}
/* Is v an admission, with or without an eviction? */
static inline bool adm_admits(enum adm_verdict v)
{
	return v == ADM_OK || adm_evicts(v);
}
/* The worker has judged an ADM_EVICT or ADM_EVICT_DROP newcomer. */
void admission_evicted(struct admission *adm);
/* p's unauthenticated connection has authenticated. */
void admission_authed(struct admission *adm, const struct adm_peer *p);
/* p's connection is closed (unauthenticated still, if unauth). */
void admission_release(struct admission *adm, const struct adm_peer *p,
    bool unauth);
/* Connections open, and of them unauthenticated. */
unsigned int admission_conns(struct admission *adm);
unsigned int admission_unauth(struct admission *adm);
/* The unauthenticated pool's size under l: max_unauth, within the share
 * of max_conns it may take. */
unsigned int admission_unauth_cap(const struct adm_limits *l);
/* The verdict's name for the logs and the metrics' reason label. */
const char *admission_reason(enum adm_verdict v);

#endif /* ASPACED_ADMISSION_H */
