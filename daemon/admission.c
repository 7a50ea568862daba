/*
 * admission.c: the counts behind admission.h.  The per-peer counts are a
 * chained hash table keyed with a random seed (a peer cannot choose
 * addresses that all land in one chain); an entry lives while its peer
 * has a connection.  The random early drop rolls a xorshift generator
 * seeded from getrandom().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "admission.h"

#define ADM_BUCKETS	1024		/* a power of two */
#define ADM_DROP_RATE	30		/* %, at --unauth-drop-start */

struct adm_entry {
	struct adm_peer	 p;
	unsigned int	 conns;		/* its connections */
	unsigned int	 unauth;	/* of them unauthenticated */
	struct adm_entry *next;
};

struct admission {
	pthread_mutex_t	 lock;
	unsigned int	 conns;		/* atomic reads outside the lock */
	unsigned int	 unauth;
	unsigned int	 evicting;	/* ADM_EVICT not yet done */
	uint64_t	 seed;		/* the hash's */
	uint64_t	 rng;		/* xorshift64 state, never 0 */
	struct adm_entry *bucket[ADM_BUCKETS];
};

static uint64_t random64(void)
{
	uint64_t r = 0;
	struct timespec ts;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)getpid() << 32;
	}
	return r != 0 ? r : 0x2545f4914f6cdd1dULL;
}

struct admission *admission_new(void)
{
	struct admission *adm = calloc(1, sizeof(*adm));

	if (adm == NULL)
		return NULL;
	pthread_mutex_init(&adm->lock, NULL);
	adm->seed = random64();
	adm->rng = random64();
	return adm;
}

void admission_free(struct admission *adm)
{
	struct adm_entry *e, *next;
	size_t i;

	if (adm == NULL)
		return;
	for (i = 0; i < ADM_BUCKETS; i++)
		for (e = adm->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	pthread_mutex_destroy(&adm->lock);
	free(adm);
}

void adm_peer_of(struct adm_peer *p, const struct sockaddr *sa, uid_t uid)
{
	memset(p, 0, sizeof(*p));
	if (sa != NULL && sa->sa_family == AF_INET) {
		p->fam = AF_INET;
		memcpy(p->a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		p->fam = AF_INET6;
		memcpy(p->a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		p->fam = AF_UNIX;
		memcpy(p->a, &uid, sizeof(uid));
	}
}

/* FNV-1a over the peer, from the seed. */
static size_t adm_hash(const struct admission *adm, const struct adm_peer *p)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ adm->seed;
	size_t i;

	h = (h ^ p->fam) * 0x100000001b3ULL;
	for (i = 0; i < sizeof(p->a); i++)
		h = (h ^ p->a[i]) * 0x100000001b3ULL;
	return (size_t)(h ^ h >> 32) & (ADM_BUCKETS - 1);
}

/* p's entry, or NULL; *link the place that points to it (or would). */
static struct adm_entry *adm_find(struct admission *adm,
    const struct adm_peer *p, struct adm_entry ***link)
{
	struct adm_entry **l = &adm->bucket[adm_hash(adm, p)];

	while (*l != NULL && ((*l)->p.fam != p->fam ||
	    memcmp((*l)->p.a, p->a, sizeof(p->a)) != 0))
		l = &(*l)->next;
	*link = l;
	return *l;
}

/* The slots kept for authenticated clients: an eighth, at least one. */
static unsigned int adm_keep(const struct adm_limits *l)
{
	return l->max_conns / 8 > 0 ? l->max_conns / 8 : 1;
}

unsigned int admission_unauth_cap(const struct adm_limits *l)
{
	unsigned int keep = adm_keep(l);
	unsigned int share = l->max_conns > keep ? l->max_conns - keep : 0;

	return l->max_unauth < share ? l->max_unauth : share;
}

/* Random early drop with n unauthenticated of a pool of cap. */
static bool adm_early_drop(struct admission *adm, const struct adm_limits *l,
    unsigned int n, unsigned int cap)
{
	uint64_t x = adm->rng;
	unsigned int pct;

	if (l->drop_start == 0 || n < l->drop_start || l->drop_start >= cap)
		return false;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	adm->rng = x;
	pct = ADM_DROP_RATE + (100 - ADM_DROP_RATE) * (n - l->drop_start) /
	    (cap - l->drop_start);
	return x % 100 < pct;
}

/* The verdict for p (its entry e, or NULL) under the lock. */
static enum adm_verdict adm_judge(struct admission *adm,
    const struct adm_limits *l, const struct adm_entry *e, bool unauth)
{
	unsigned int cap;

	if (adm->conns >= l->max_conns)
		return ADM_FULL;
	if (l->per_addr > 0 && e != NULL && e->conns >= l->per_addr)
		return ADM_PER_ADDR;
	if (!unauth)
		return ADM_OK;
	cap = admission_unauth_cap(l);
	if (adm->conns + adm_keep(l) >= l->max_conns)
		return ADM_RESERVED;
	if (l->per_addr_unauth > 0 && e != NULL &&
	    e->unauth >= l->per_addr_unauth)
		return ADM_PER_ADDR_UNAUTH;
	if (adm->unauth >= cap) {
		if (adm->evicting >= ADM_EVICT_MAX ||
		    adm->unauth >= cap + ADM_EVICT_MAX)
			return ADM_UNAUTH_FULL;
		return ADM_EVICT;
	}
	if (adm_early_drop(adm, l, adm->unauth, cap))
		return adm->evicting < ADM_EVICT_MAX ? ADM_EVICT_DROP :
		    ADM_EARLY_DROP;
	return ADM_OK;
}

enum adm_verdict admission_admit(struct admission *adm,
    const struct adm_limits *l, const struct adm_peer *p, bool unauth)
{
	struct adm_entry **link, *e;
	enum adm_verdict v;

	pthread_mutex_lock(&adm->lock);
	e = adm_find(adm, p, &link);
	v = adm_judge(adm, l, e, unauth);
	if (adm_admits(v) && e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			v = ADM_FULL;	/* out of memory: as if full */
		else {
			e->p = *p;
			*link = e;
		}
	}
	if (adm_evicts(v))
		adm->evicting++;
	if (adm_admits(v)) {
		e->conns++;
		__atomic_add_fetch(&adm->conns, 1, __ATOMIC_RELAXED);
		if (unauth) {
			e->unauth++;
			__atomic_add_fetch(&adm->unauth, 1, __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&adm->lock);
	return v;
}

void admission_evicted(struct admission *adm)
{
	pthread_mutex_lock(&adm->lock);
	if (adm->evicting > 0)
		adm->evicting--;
	pthread_mutex_unlock(&adm->lock);
}

void admission_authed(struct admission *adm, const struct adm_peer *p)
{
	struct adm_entry **link, *e;

	pthread_mutex_lock(&adm->lock);
	if ((e = adm_find(adm, p, &link)) != NULL && e->unauth > 0) {
		e->unauth--;
		__atomic_sub_fetch(&adm->unauth, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&adm->lock);
}

void admission_release(struct admission *adm, const struct adm_peer *p,
    bool unauth)
{
	struct adm_entry **link, *e;

	pthread_mutex_lock(&adm->lock);
	if ((e = adm_find(adm, p, &link)) != NULL) {
		if (unauth && e->unauth > 0) {
			e->unauth--;
			__atomic_sub_fetch(&adm->unauth, 1, __ATOMIC_RELAXED);
		}
		if (e->conns > 0) {
			e->conns--;
			__atomic_sub_fetch(&adm->conns, 1, __ATOMIC_RELAXED);
		}
		if (e->conns == 0) {
			*link = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&adm->lock);
}

unsigned int admission_conns(struct admission *adm)
{
	return __atomic_load_n(&adm->conns, __ATOMIC_RELAXED);
}

unsigned int admission_unauth(struct admission *adm)
{
	return __atomic_load_n(&adm->unauth, __ATOMIC_RELAXED);
}

const char *admission_reason(enum adm_verdict v)
{
	switch (v) {
	case ADM_OK:
		return "admitted";
	case ADM_FULL:
		return "max_connections";
	case ADM_RESERVED:
		return "reserved";
	case ADM_UNAUTH_FULL:
		return "unauthenticated";
	case ADM_EVICT:
	case ADM_EVICT_DROP:
		return "evicting";
	case ADM_EARLY_DROP:
		return "early_drop";
	case ADM_PER_ADDR:
		return "per_address";
	case ADM_PER_ADDR_UNAUTH:
		return "per_address_unauthenticated";
	}
	return "?";
}
