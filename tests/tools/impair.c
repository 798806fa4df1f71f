/* SPDX-License-Identifier: MIT */
/*
 * sl-impair: an L2 relay between two interfaces that impairs what it carries, for the tests
 * (this kernel has no netem). Frames are read with AF_PACKET on one interface and written,
 * untouched, to the other, after per-direction loss, duplication, delay, jitter and
 * reordering. Loss, duplication and reordering apply to IPv4 frames only, so ARP always
 * gets through (late, if there is a delay). Delayed frames wait in a bounded queue (a
 * min-heap on their release time, CLOCK_MONOTONIC); a full queue drops and counts. The
 * random decisions come from one generator per direction seeded by --seed, so a given
 * sequence of frames meets the same fate on every run.
 *
 * It runs for --duration seconds at most and stops on SIGTERM or SIGINT; it prints its
 * counters on exit, and on SIGUSR1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define SLOT_SIZE 2048	       /* largest frame relayed; larger ones are counted and dropped */
#define BATCH 64	       /* frames per recvmmsg/sendmmsg */
#define RX_ROUNDS 8	       /* receive batches per socket per wake-up, for fairness */
#define RELEASE_SLACK_NS 50000 /* release frames due this close together in one batch */
#define QUEUE_DEFAULT 65536
#define QUEUE_MAX (1u << 20)
#define DURATION_DEFAULT 3600
#define DURATION_MAX 86400
#define DELAY_MAX_MS 60000
#define SOCKBUF_BYTES (16 << 20)
#define NS_PER_MS 1000000ull

enum { DIR_AB, DIR_BA, NDIR };

struct dir_conf {
	uint32_t loss; /* thresholds in 1/2^32: a draw below them hits */
	uint32_t dup;
	uint32_t reorder;
	uint64_t delay_ns;
	uint64_t jitter_ns;
	uint64_t gap_ns; /* extra delay of a reordered frame */
	bool gap_set;
	double loss_pct, dup_pct, reorder_pct;
};

struct dir_stats {
	uint64_t in, out, dropped, duplicated, reordered, delayed, overflow, oversize, txerr;
};

struct dir {
	const char *name;
	int rx_fd, tx_fd;
	uint64_t rng;
	struct dir_conf conf;
	struct dir_stats st;
	/* Frames to send now: pointers into receive buffers or queue slots. */
	struct mmsghdr tx_msgs[2 * BATCH];
	struct iovec tx_iov[2 * BATCH];
	uint32_t tx_slots[2 * BATCH]; /* queue slot to free after sending, or UINT32_MAX */
	unsigned int tx_n;
};

struct entry {
	uint64_t when; /* release time, CLOCK_MONOTONIC ns */
	uint64_t seq;  /* FIFO among equal release times */
	uint32_t slot;
	uint32_t dir;
};

struct queue {
	uint32_t cap;
	uint32_t len; /* entries in the heap */
	struct entry *heap;
	uint32_t *free_slots; /* stack of unused slots */
	uint32_t nfree;
	uint16_t *slot_len;
	unsigned char *slots; /* cap * SLOT_SIZE, touched only as far as used */
	uint64_t seq;
	uint32_t high_water;
};

struct iface {
	const char *name;
	int ifindex;
	int fd;
	unsigned char rx_buf[BATCH][SLOT_SIZE];
	struct mmsghdr rx_msgs[BATCH];
	struct iovec rx_iov[BATCH];
	struct sockaddr_ll rx_addr[BATCH];
};

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t dump_requested;

static struct iface ifs[2];
static struct dir dirs[NDIR];
static struct queue q;
/* --net: only IPv4 frames from or to this network are impaired (network order; mask 0 = all). */
static uint32_t only_net, only_mask;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_requested = 1;
	else
		stop_signal = sig;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* splitmix64: small, fast, and good enough for coin flips. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool
chance(struct dir *d, uint32_t threshold)
{
	if (threshold == 0)
		return false;
	return (uint32_t)(rng_next(&d->rng) >> 32) < threshold;
}

static uint32_t
pct_threshold(double pct)
{
	double t = pct / 100.0 * 4294967296.0;

	if (t >= 4294967295.0)
		return UINT32_MAX;
	return (uint32_t)t;
}

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: sl-impair --a IFACE --b IFACE [options]\n"
	    "\n"
	    "Relays every frame between IFACE a and IFACE b (AF_PACKET, frames untouched) and\n"
	    "impairs them on the way. Each impairment option applies to both directions; add\n"
	    "the suffix -ab (a to b only) or -ba (b to a only) to set one direction, e.g.\n"
	    "--loss 5 --loss-ba 0.\n"
	    "\n"
	    "  --loss PCT          drop PCT %% of IPv4 frames\n"
	    "  --dup PCT           send PCT %% of IPv4 frames twice\n"
	    "  --delay MS          hold every frame MS milliseconds\n"
	    "  --jitter MS         add a uniform random 0..MS ms to each frame's delay (frames\n"
	    "                      then overtake each other)\n"
	    "  --reorder PCT       hold PCT %% of IPv4 frames an extra --reorder-gap, so that\n"
	    "                      later frames overtake them\n"
	    "  --reorder-gap MS    the extra hold of a reordered frame (default: delay + jitter,\n"
	    "                      at least 1 ms)\n"
	    "  --net A.B.C.D/N     impair only IPv4 frames whose source or destination is in\n"
	    "                      this network; the others pass at once (default: all)\n"
	    "  --seed N            seed of the random decisions (default 1)\n"
	    "  --duration S        exit after S seconds (default %d, at most %d)\n"
	    "  --queue N           frames held at most, both directions together (default %d)\n"
	    "  -h, --help          this text\n"
	    "\n"
	    "Percentages may have decimals. SIGTERM/SIGINT stop it (exit 0); SIGUSR1 prints the\n"
	    "counters, which are also printed on exit: per direction in, out, dropped,\n"
	    "duplicated, reordered, delayed, overflow, oversize, txerr, and the kernel's own\n"
	    "drops on each socket.\n",
	    DURATION_DEFAULT, DURATION_MAX, QUEUE_DEFAULT);
}

static int
parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "sl-impair: %s wants a number from %g to %g, not '%s'\n", opt, lo,
			hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr,
			"sl-impair: %s wants an integer from %" PRIu64 " to %" PRIu64
			", not '%s'\n",
			opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* One impairment option, for the directions in mask (bit DIR_AB, bit DIR_BA). */
static int
set_impairment(const char *opt, const char *base, unsigned int mask, const char *val)
{
	double v;
	int i;

	for (i = 0; i < NDIR; i++) {
		struct dir_conf *c = &dirs[i].conf;

		if (!(mask & (1u << i)))
			continue;
		if (strcmp(base, "loss") == 0 || strcmp(base, "dup") == 0 ||
		    strcmp(base, "reorder") == 0) {
			if (parse_double(opt, val, 0, 100, &v) < 0)
				return -1;
			if (base[0] == 'l') {
				c->loss_pct = v;
				c->loss = pct_threshold(v);
			} else if (base[0] == 'd') {
				c->dup_pct = v;
				c->dup = pct_threshold(v);
			} else {
				c->reorder_pct = v;
				c->reorder = pct_threshold(v);
			}
		} else {
			if (parse_double(opt, val, 0, DELAY_MAX_MS, &v) < 0)
				return -1;
			if (strcmp(base, "delay") == 0) {
				c->delay_ns = (uint64_t)(v * NS_PER_MS);
			} else if (strcmp(base, "jitter") == 0) {
				c->jitter_ns = (uint64_t)(v * NS_PER_MS);
			} else if (strcmp(base, "reorder-gap") == 0) {
				c->gap_ns = (uint64_t)(v * NS_PER_MS);
				c->gap_set = true;
			} else {
				return 1;
			}
		}
	}
	return 0;
}

static int
parse_args(int argc, char **argv, uint64_t *seed, uint64_t *duration, uint64_t *qcap)
{
	static const char *const impairments[] = {"loss",   "dup",     "delay",
						  "jitter", "reorder", "reorder-gap"};
	int i;

	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char base[32];
		unsigned int mask = (1u << DIR_AB) | (1u << DIR_BA);
		size_t n, k;
		bool known = false;

		if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strncmp(opt, "--", 2) != 0 || val == NULL) {
			fprintf(stderr, "sl-impair: unknown option or missing value: '%s'\n", opt);
			return -1;
		}
		i++;
		if (strcmp(opt, "--a") == 0) {
			ifs[0].name = val;
			continue;
		}
		if (strcmp(opt, "--b") == 0) {
			ifs[1].name = val;
			continue;
		}
		if (strcmp(opt, "--net") == 0) {
			unsigned int a, b, c, d, len;
			char end;

			if (sscanf(val, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &len, &end) != 5 ||
			    a > 255 || b > 255 || c > 255 || d > 255 || len < 1 || len > 32) {
				fprintf(stderr, "sl-impair: --net %s: expected A.B.C.D/N\n", val);
				return -1;
			}
			only_mask = htonl(len == 32 ? 0xffffffffu : ~(0xffffffffu >> len));
			only_net = htonl(a << 24 | b << 16 | c << 8 | d) & only_mask;
			continue;
		}
		if (strcmp(opt, "--seed") == 0) {
			if (parse_u64(opt, val, 0, UINT64_MAX, seed) < 0)
				return -1;
			continue;
		}
		if (strcmp(opt, "--duration") == 0) {
			if (parse_u64(opt, val, 1, DURATION_MAX, duration) < 0)
				return -1;
			continue;
		}
		if (strcmp(opt, "--queue") == 0) {
			if (parse_u64(opt, val, 16, QUEUE_MAX, qcap) < 0)
				return -1;
			continue;
		}
		n = strlen(opt + 2);
		if (n >= sizeof(base))
			n = sizeof(base) - 1;
		memcpy(base, opt + 2, n);
		base[n] = '\0';
		if (n > 3 && strcmp(base + n - 3, "-ab") == 0) {
			mask = 1u << DIR_AB;
			base[n - 3] = '\0';
		} else if (n > 3 && strcmp(base + n - 3, "-ba") == 0) {
			mask = 1u << DIR_BA;
			base[n - 3] = '\0';
		}
		for (k = 0; k < sizeof(impairments) / sizeof(impairments[0]); k++)
			known |= strcmp(base, impairments[k]) == 0;
		if (!known) {
			fprintf(stderr, "sl-impair: unknown option '%s' (see --help)\n", opt);
			return -1;
		}
		if (set_impairment(opt, base, mask, val) != 0)
			return -1;
	}
	if (ifs[0].name == NULL || ifs[1].name == NULL) {
		fprintf(stderr, "sl-impair: --a and --b are required (see --help)\n");
		return -1;
	}
	if (strcmp(ifs[0].name, ifs[1].name) == 0) {
		fprintf(stderr, "sl-impair: --a and --b must differ\n");
		return -1;
	}
	return 0;
}

static int
open_iface(struct iface *ifc)
{
	struct sockaddr_ll sll;
	int one = 1, bufsz = SOCKBUF_BYTES, i;

	ifc->ifindex = (int)if_nametoindex(ifc->name);
	if (ifc->ifindex == 0) {
		fprintf(stderr, "sl-impair: no interface '%s': %s\n", ifc->name, strerror(errno));
		return -1;
	}
	ifc->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (ifc->fd < 0) {
		fprintf(stderr, "sl-impair: AF_PACKET socket: %s\n", strerror(errno));
		return -1;
	}
	/* Our own transmissions on this interface must not come back to us. */
	if (setsockopt(ifc->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		fprintf(stderr, "sl-impair: PACKET_IGNORE_OUTGOING on %s: %s\n", ifc->name,
			strerror(errno));
		return -1;
	}
	/* Large buffers so that bursts do not drop in the kernel; FORCE works for root. */
	if (setsockopt(ifc->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(ifc->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (setsockopt(ifc->fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(ifc->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifc->ifindex;
	if (bind(ifc->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "sl-impair: bind to %s: %s\n", ifc->name, strerror(errno));
		return -1;
	}
	for (i = 0; i < BATCH; i++) {
		ifc->rx_iov[i].iov_base = ifc->rx_buf[i];
		ifc->rx_iov[i].iov_len = SLOT_SIZE;
	}
	return 0;
}

/*
 * Throw away what queued on the socket between socket() and bind(), when it was not yet
 * tied to its interface and may have picked up frames of any interface.
 */
static void
drain(struct iface *ifc)
{
	unsigned char buf[64];
	int i;

	for (i = 0; i < 100000; i++)
		if (recv(ifc->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC) < 0)
			break;
}

static int
queue_init(uint32_t cap)
{
	uint32_t i;

	q.cap = cap;
	q.heap = calloc(cap, sizeof(*q.heap));
	q.free_slots = calloc(cap, sizeof(*q.free_slots));
	q.slot_len = calloc(cap, sizeof(*q.slot_len));
	q.slots = mmap(NULL, (size_t)cap * SLOT_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (q.heap == NULL || q.free_slots == NULL || q.slot_len == NULL || q.slots == MAP_FAILED) {
		fprintf(stderr, "sl-impair: no memory for a queue of %u frames\n", cap);
		return -1;
	}
	/* Low slots on top of the stack: only the high-water mark of memory is touched. */
	for (i = 0; i < cap; i++)
		q.free_slots[i] = cap - 1 - i;
	q.nfree = cap;
	return 0;
}

static bool
entry_before(const struct entry *x, const struct entry *y)
{
	return x->when < y->when || (x->when == y->when && x->seq < y->seq);
}

static void
heap_push(struct entry e)
{
	uint32_t i = q.len++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!entry_before(&e, &q.heap[parent]))
			break;
		q.heap[i] = q.heap[parent];
		i = parent;
	}
	q.heap[i] = e;
}

static struct entry
heap_pop(void)
{
	struct entry top = q.heap[0], last = q.heap[--q.len];
	uint32_t i = 0;

	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m;

		if (l >= q.len)
			break;
		m = r < q.len && entry_before(&q.heap[r], &q.heap[l]) ? r : l;
		if (!entry_before(&q.heap[m], &last))
			break;
		q.heap[i] = q.heap[m];
		i = m;
	}
	if (q.len > 0)
		q.heap[i] = last;
	return top;
}

static void
flush(struct dir *d)
{
	unsigned int i = 0, k;
	int r;

	while (i < d->tx_n) {
		r = sendmmsg(d->tx_fd, &d->tx_msgs[i], d->tx_n - i, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* This frame cannot go (full device queue, link down ...): drop it. */
			d->st.txerr++;
			i++;
			continue;
		}
		d->st.out += (uint64_t)r;
		i += (unsigned int)r;
	}
	for (k = 0; k < d->tx_n; k++)
		if (d->tx_slots[k] != UINT32_MAX)
			q.free_slots[q.nfree++] = d->tx_slots[k];
	d->tx_n = 0;
}

static void
tx_add(struct dir *d, void *frame, size_t len, uint32_t slot)
{
	unsigned int n;

	if (d->tx_n == 2 * BATCH)
		flush(d);
	n = d->tx_n++;
	d->tx_iov[n].iov_base = frame;
	d->tx_iov[n].iov_len = len;
	memset(&d->tx_msgs[n], 0, sizeof(d->tx_msgs[n]));
	d->tx_msgs[n].msg_hdr.msg_iov = &d->tx_iov[n];
	d->tx_msgs[n].msg_hdr.msg_iovlen = 1;
	d->tx_slots[n] = slot;
}

static bool
is_ipv4(const unsigned char *f, size_t len)
{
	uint16_t type;

	if (len < 14 + 20)
		return false;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == ETH_P_8021Q && len >= 18 + 20)
		type = (uint16_t)(f[16] << 8 | f[17]);
	return type == ETH_P_IP;
}

static void
enqueue(struct dir *d, const unsigned char *frame, size_t len, uint64_t when)
{
	uint32_t slot;

	if (q.nfree == 0) {
		d->st.overflow++;
		return;
	}
	slot = q.free_slots[--q.nfree];
	memcpy(q.slots + (size_t)slot * SLOT_SIZE, frame, len);
	q.slot_len[slot] = (uint16_t)len;
	heap_push((struct entry){
	    .when = when, .seq = q.seq++, .slot = slot, .dir = (uint32_t)(d - dirs)});
	if (q.len > q.high_water)
		q.high_water = q.len;
	d->st.delayed++;
}

/* An IPv4 frame from or to --net (is_ipv4 checked the length). */
static bool
in_net(const unsigned char *f)
{
	size_t ip = (f[12] << 8 | f[13]) == ETH_P_8021Q ? 18 : 14;
	uint32_t src, dst;

	memcpy(&src, f + ip + 12, 4);
	memcpy(&dst, f + ip + 16, 4);
	return (src & only_mask) == only_net || (dst & only_mask) == only_net;
}

static void
impair(struct dir *d, unsigned char *frame, size_t len, uint64_t now)
{
	struct dir_conf *c = &d->conf;
	bool ip = is_ipv4(frame, len);
	uint64_t hold = c->delay_ns;
	int copies = 1, i;

	if (only_mask != 0 && !(ip && in_net(frame))) {
		tx_add(d, frame, len, UINT32_MAX);
		return;
	}

	if (ip && chance(d, c->loss)) {
		d->st.dropped++;
		return;
	}
	if (ip && chance(d, c->dup)) {
		copies = 2;
		d->st.duplicated++;
	}
	if (c->jitter_ns > 0)
		hold += rng_next(&d->rng) % (c->jitter_ns + 1);
	if (ip && chance(d, c->reorder)) {
		hold += c->gap_ns;
		d->st.reordered++;
	}
	for (i = 0; i < copies; i++) {
		if (hold == 0)
			tx_add(d, frame, len, UINT32_MAX);
		else
			enqueue(d, frame, len, now + hold);
	}
}

/* Reads up to RX_ROUNDS batches from one interface and passes them on. */
static void
receive(struct iface *ifc, struct dir *d)
{
	int round, r, i;

	for (round = 0; round < RX_ROUNDS; round++) {
		uint64_t now;

		for (i = 0; i < BATCH; i++) {
			memset(&ifc->rx_msgs[i], 0, sizeof(ifc->rx_msgs[i]));
			ifc->rx_msgs[i].msg_hdr.msg_iov = &ifc->rx_iov[i];
			ifc->rx_msgs[i].msg_hdr.msg_iovlen = 1;
			ifc->rx_msgs[i].msg_hdr.msg_name = &ifc->rx_addr[i];
			ifc->rx_msgs[i].msg_hdr.msg_namelen = sizeof(ifc->rx_addr[i]);
		}
		r = recvmmsg(ifc->fd, ifc->rx_msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (r <= 0)
			break;
		now = now_ns();
		for (i = 0; i < r; i++) {
			size_t len = ifc->rx_msgs[i].msg_len;

			if (ifc->rx_addr[i].sll_pkttype == PACKET_OUTGOING)
				continue;
			d->st.in++;
			if (len > SLOT_SIZE || (ifc->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
				d->st.oversize++;
				continue;
			}
			impair(d, ifc->rx_buf[i], len, now);
		}
		/* The receive buffers are reused by the next round: send what points at them. */
		flush(d);
		if (r < BATCH)
			break;
	}
}

/* Sends every held frame due by now (plus a little slack, to batch). */
static void
release(uint64_t now)
{
	int i;

	while (q.len > 0 && q.heap[0].when <= now + RELEASE_SLACK_NS) {
		struct entry e = heap_pop();
		struct dir *d = &dirs[e.dir];

		if (d->tx_n == 2 * BATCH)
			flush(d);
		tx_add(d, q.slots + (size_t)e.slot * SLOT_SIZE, q.slot_len[e.slot], e.slot);
	}
	for (i = 0; i < NDIR; i++)
		if (dirs[i].tx_n > 0)
			flush(&dirs[i]);
}

static void
print_stats(const char *why)
{
	int i;

	fprintf(stderr, "sl-impair: counters (%s), queue high water %u of %u\n", why, q.high_water,
		q.cap);
	for (i = 0; i < NDIR; i++) {
		const struct dir_stats *s = &dirs[i].st;

		fprintf(stderr,
			"sl-impair: %s: in %" PRIu64 " out %" PRIu64 " dropped %" PRIu64
			" duplicated %" PRIu64 " reordered %" PRIu64 " delayed %" PRIu64
			" overflow %" PRIu64 " oversize %" PRIu64 " txerr %" PRIu64 "\n",
			dirs[i].name, s->in, s->out, s->dropped, s->duplicated, s->reordered,
			s->delayed, s->overflow, s->oversize, s->txerr);
	}
	for (i = 0; i < 2; i++) {
		struct tpacket_stats ks;
		socklen_t len = sizeof(ks);

		/* Reading PACKET_STATISTICS resets it: report increments since the last print. */
		if (getsockopt(ifs[i].fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0)
			fprintf(stderr,
				"sl-impair: socket on %s: kernel drops %u (since last print)\n",
				ifs[i].name, ks.tp_drops);
	}
}

/*
 * A pending socket error (ENETDOWN when the link goes down): read it, which clears it. If
 * the interface is gone (sluice exited and took its TAP along), there is nothing to relay.
 */
static void
socket_error(struct iface *ifc)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(ifc->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if ((int)if_nametoindex(ifc->name) != ifc->ifindex) {
		fprintf(stderr, "sl-impair: %s is gone; stopping\n", ifc->name);
		stop_signal = -1; /* not a signal: a normal end */
	} else if (err != 0) {
		fprintf(stderr, "sl-impair: %s: %s\n", ifc->name, strerror(err));
	}
}

static void
print_conf(uint64_t seed, uint64_t duration)
{
	int i;

	fprintf(stderr,
		"sl-impair: relaying %s <-> %s, seed %" PRIu64 ", duration %" PRIu64
		" s, queue %u frames\n",
		ifs[0].name, ifs[1].name, seed, duration, q.cap);
	for (i = 0; i < NDIR; i++) {
		const struct dir_conf *c = &dirs[i].conf;

		fprintf(
		    stderr,
		    "sl-impair: %s: loss %g%% dup %g%% delay %.3f ms jitter %.3f ms reorder %g%% "
		    "(extra %.3f ms)\n",
		    dirs[i].name, c->loss_pct, c->dup_pct, (double)c->delay_ns / 1e6,
		    (double)c->jitter_ns / 1e6, c->reorder_pct, (double)c->gap_ns / 1e6);
	}
}

int
main(int argc, char **argv)
{
	uint64_t seed = 1, duration = DURATION_DEFAULT, qcap = QUEUE_DEFAULT, deadline;
	static char names[NDIR][2 * IF_NAMESIZE + 8];
	struct sigaction sa;
	sigset_t block, wait_mask;
	struct pollfd pfd[2];
	int i, status = 0;

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &seed, &duration, &qcap) < 0)
		return 2;
	for (i = 0; i < NDIR; i++) {
		struct dir_conf *c = &dirs[i].conf;

		if (!c->gap_set) {
			c->gap_ns = c->delay_ns + c->jitter_ns;
			if (c->gap_ns < NS_PER_MS)
				c->gap_ns = NS_PER_MS;
		}
		/* Independent streams per direction, both fixed by the seed. */
		dirs[i].rng = seed ^ (0x5851f42d4c957f2dull * (uint64_t)(i + 1));
	}

	/* Signals are blocked except inside ppoll(): no lost wake-ups, no EINTR elsewhere. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGHUP);
	sigdelset(&wait_mask, SIGUSR1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	if (queue_init((uint32_t)qcap) < 0)
		return 1;
	for (i = 0; i < 2; i++) {
		if (open_iface(&ifs[i]) < 0)
			return 1;
		drain(&ifs[i]);
	}
	dirs[DIR_AB].rx_fd = ifs[0].fd;
	dirs[DIR_AB].tx_fd = ifs[1].fd;
	dirs[DIR_BA].rx_fd = ifs[1].fd;
	dirs[DIR_BA].tx_fd = ifs[0].fd;
	snprintf(names[DIR_AB], sizeof(names[DIR_AB]), "%s->%s", ifs[0].name, ifs[1].name);
	snprintf(names[DIR_BA], sizeof(names[DIR_BA]), "%s->%s", ifs[1].name, ifs[0].name);
	dirs[DIR_AB].name = names[DIR_AB];
	dirs[DIR_BA].name = names[DIR_BA];
	print_conf(seed, duration);

	deadline = now_ns() + duration * 1000000000ull;
	for (i = 0; i < 2; i++) {
		pfd[i].fd = ifs[i].fd;
		pfd[i].events = POLLIN;
	}
	fprintf(stderr, "sl-impair: ready\n");
	while (!stop_signal) {
		uint64_t now = now_ns(), wait;
		struct timespec ts;
		int r;

		if (now >= deadline) {
			fprintf(stderr, "sl-impair: duration of %" PRIu64 " s reached\n", duration);
			break;
		}
		release(now);
		wait = deadline - now;
		if (q.len > 0) {
			uint64_t due = q.heap[0].when > now ? q.heap[0].when - now : 0;

			if (due < wait)
				wait = due;
		}
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		r = ppoll(pfd, 2, &ts, &wait_mask);
		if (r < 0) {
			if (errno == EINTR) {
				if (dump_requested) {
					dump_requested = 0;
					print_stats("SIGUSR1");
				}
				continue;
			}
			fprintf(stderr, "sl-impair: ppoll: %s\n", strerror(errno));
			status = 1;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLNVAL))
				socket_error(&ifs[i]);
			if (pfd[i].revents & POLLIN)
				receive(&ifs[i], &dirs[i == 0 ? DIR_AB : DIR_BA]);
		}
	}
	if (stop_signal > 0)
		fprintf(stderr, "sl-impair: signal %d\n", (int)stop_signal);
	print_stats("exit");
	return status;
}
