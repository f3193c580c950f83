// SPDX-License-Identifier: GPL-2.0
/*
 * tcio-bench: round trips through a tcio device or a vsock echo service,
 * timed, for `vtcio bench` (issue 7).  Prints KTAP version 1: one test per
 * measurement, each preceded by a diagnostic line the runner reads:
 *
 *   # vtcio-bench: path=P size=N clients=C requests=R errors=E
 *     seconds=T rps=X mbps=Y p50_us=A p99_us=B     (one line)
 *
 * A device round trip is tcio_call() with TCIO_REQ_ECHO and N payload
 * bytes: write, poll, read, as every client does.  A vsock round trip
 * writes N bytes and reads the N bytes echoed.  mbps counts the payload
 * one way (requests per second times N).  C clients are C processes,
 * each with its own open file or connection, started together.
 *
 *   tcio-bench [options] --device PATH [--vsock CID:PORT]
 *   tcio-bench --serve-vsock PORT
 *   tcio-bench --timer-probe US
 *
 * --timer-probe sleeps US microseconds 200 times and prints how long the
 * sleeps took (vtcio-bench: timer ..., not KTAP): a driver that waits in short
 * high-resolution sleeps waits that long.
 *
 * With both targets, each (size, clients) pair is measured on the device
 * and then on vsock, side by side.  --sweep FILE=V1,V2... measures the
 * device once per value, writing it to FILE (a module parameter in sysfs)
 * first; those measurements are named path=DEVICE@PARAM=V.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/vm_sockets.h>
#include <sodium.h>

#include "tcio_client.h"

#define BENCH_MAX_SIZES		8
#define BENCH_MAX_CLIENTS	16
/* Samples kept per client; later round trips count but are not kept. */
#define BENCH_MAX_SAMPLES	200000
#define BENCH_IO_TIMEOUT_MS	TCIO_ANSWER_TIMEOUT_MS

/**
 * struct bench_opts - command line
 * @device: tcio device, or NULL
 * @vsock_cid: vsock peer, when @vsock_port is not 0
 * @vsock_port: vsock port, 0 for none
 * @serve_port: run the vsock echo service on this port, 0 for none
 * @sizes: payload sizes
 * @nsizes: how many
 * @clients: client counts
 * @nclients: how many
 * @seconds: measuring time of each measurement
 * @warmup: untimed round trips per client first
 * @probe_us: sleep length of --timer-probe, 0 for none
 * @sweep_file: the file --sweep writes, or NULL
 * @sweep: its values
 * @nsweep: how many
 */
struct bench_opts {
	const char *device;
	unsigned int vsock_cid;
	unsigned int vsock_port;
	unsigned int serve_port;
	size_t sizes[BENCH_MAX_SIZES];
	int nsizes;
	int clients[BENCH_MAX_SIZES];
	int nclients;
	double seconds;
	int warmup;
	unsigned int probe_us;
	const char *sweep_file;
	unsigned long sweep[BENCH_MAX_SIZES];
	int nsweep;
};

/**
 * struct bench_slot - what one client process reports, in shared memory
 * @start_ns: when it began measuring
 * @end_ns: when it stopped
 * @count: round trips completed while measuring
 * @kept: samples stored (at most BENCH_MAX_SAMPLES)
 * @err: 0, or the -errno (or -EPROTO) that stopped it
 * @samples_ns: round-trip times
 */
struct bench_slot {
	__u64 start_ns;
	__u64 end_ns;
	__u64 count;
	__u64 kept;
	int err;
	__u32 samples_ns[BENCH_MAX_SAMPLES];
};

/**
 * struct bench_target - one way of reaching an echo
 * @name: "tcio" device basename or "vsock"
 * @device: the device, for a tcio target
 * @cid: vsock peer
 * @port: vsock port, 0 for a tcio target
 */
struct bench_target {
	const char *name;
	const char *device;
	unsigned int cid;
	unsigned int port;
};

/**
 * now_ns() - CLOCK_MONOTONIC in nanoseconds
 *
 * Return: the time.
 */
static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/**
 * vsock_connect() - connect a stream socket to a vsock peer
 * @cid: the peer
 * @port: its port
 *
 * Return: the socket, or -errno.
 */
static int vsock_connect(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK,
		.svm_cid = cid,
		.svm_port = port,
	};
	int fd, rc;

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/**
 * io_all() - read or write exactly @len bytes
 * @fd: the socket
 * @buf: the bytes
 * @len: how many
 * @out: write when true, read when false
 *
 * Return: 0, -EPIPE at end of stream, or -errno.
 */
static int io_all(int fd, unsigned char *buf, size_t len, bool out)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (out)
			n = write(fd, buf + done, len - done);
		else
			n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		done += (size_t)n;
	}
	return 0;
}

/**
 * round_trip() - one request and its answer, checked
 * @t: the target
 * @fd: its open file or socket
 * @out: the payload sent
 * @in: room for the answer
 * @size: payload bytes
 *
 * Return: 0, -EPROTO when the answer is not the payload echoed, or
 * -errno.
 */
static int round_trip(const struct bench_target *t, int fd,
		      unsigned char *out, unsigned char *in, size_t size)
{
	static struct tcio_msg m;
	int rc;

	if (t->port) {
		rc = io_all(fd, out, size, true);
		if (!rc)
			rc = io_all(fd, in, size, false);
		if (rc)
			return rc;
		return memcmp(in, out, size) ? -EPROTO : 0;
	}
	rc = tcio_call(fd, TCIO_REQ_ECHO, out, size, &m);
	if (rc < 0)
		return rc;
	if (m.hdr.req_id != TCIO_ANS_ECHO ||
	    m.hdr.status != TCIO_STATUS_SUCCESS || m.hdr.req_size != size ||
	    memcmp(m.payload, out, size))
		return -EPROTO;
	return 0;
}

/**
 * client() - one client process: warm up, then round trips until @end
 * @t: the target
 * @o: options
 * @size: payload bytes
 * @go: read end of the start pipe; it reads end of file at the start
 * @ready: write end of the ready pipe; one byte when connected
 * @slot: where to report
 *
 * Return: the process's exit status.
 */
static int client(const struct bench_target *t, const struct bench_opts *o,
		  size_t size, int go, int ready, struct bench_slot *slot)
{
	static unsigned char out[TCIO_MAX_PAYLOAD], in[TCIO_MAX_PAYLOAD];
	__u64 t0, t1, end;
	char c;
	int fd, i, rc;

	randombytes_buf(out, size);
	fd = t->port ? vsock_connect(t->cid, t->port) : tcio_open(t->device, 0);
	if (fd < 0) {
		slot->err = fd;
		close(ready);
		return 1;
	}
	rc = 0;
	for (i = 0; i < o->warmup && !rc; i++)
		rc = round_trip(t, fd, out, in, size);
	if (rc) {
		slot->err = rc;
		close(ready);
		return 1;
	}
	if (write(ready, "r", 1) != 1)
		return 1;
	close(ready);
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	t0 = now_ns();
	slot->start_ns = t0;
	end = t0 + (__u64)(o->seconds * 1e9);
	do {
		t0 = now_ns();
		rc = round_trip(t, fd, out, in, size);
		t1 = now_ns();
		if (rc) {
			slot->err = rc;
			break;
		}
		if (slot->kept < BENCH_MAX_SAMPLES)
			slot->samples_ns[slot->kept++] =
				(__u32)(t1 - t0 > UINT32_MAX ? UINT32_MAX :
					t1 - t0);
		slot->count++;
	} while (t1 < end);
	slot->end_ns = t1;
	close(fd);
	return rc ? 1 : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/**
 * percentile_us() - nearest-rank percentile of sorted samples
 * @s: samples in ns, sorted
 * @n: how many (> 0)
 * @p: the percentile, 0..100
 *
 * Return: the value in microseconds.
 */
static double percentile_us(const __u32 *s, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return s[rank - 1] / 1000.0;
}

/**
 * measure() - one measurement: @nclients processes for o->seconds
 * @t: the target
 * @o: options
 * @size: payload bytes
 * @nclients: processes
 * @k: the KTAP printer
 *
 * Return: 0 when every client finished without an error, else -1.
 */
static int measure(const struct bench_target *t, const struct bench_opts *o,
		   size_t size, int nclients, struct ktap *k)
{
	size_t one = sizeof(struct bench_slot), total = 0;
	__u64 count = 0, start = UINT64_MAX, end = 0;
	struct bench_slot *slots;
	int go[2], ready[2], errs = 0, first_err = 0, j;
	pid_t pids[BENCH_MAX_CLIENTS];
	double secs, rps;
	__u32 *all;
	char name[96], reason[64], what[160];
	ssize_t n;
	char c;

	snprintf(name, sizeof(name), "%s size=%zu clients=%d", t->name, size,
		 nclients);
	slots = mmap(NULL, one * nclients, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED || pipe(go) || pipe(ready)) {
		ktap_result(k, KTAP_FAIL, name, "no memory or pipes");
		return -1;
	}
	fflush(stdout);
	for (j = 0; j < nclients; j++) {
		pids[j] = fork();
		if (pids[j] == 0) {
			close(go[1]);
			close(ready[0]);
			_exit(client(t, o, size, go[0], ready[1], &slots[j]));
		}
		if (pids[j] < 0) {
			slots[j].err = -errno;
			nclients = j;
			break;
		}
	}
	close(go[0]);
	close(ready[1]);
	/* Every client connected and warmed up (or failed): start them. */
	for (;;) {
		n = read(ready[0], &c, 1);
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		break;
	}
	close(ready[0]);
	close(go[1]);
	for (j = 0; j < nclients; j++)
		while (waitpid(pids[j], NULL, 0) < 0 && errno == EINTR)
			;
	for (j = 0; j < nclients; j++) {
		struct bench_slot *s = &slots[j];

		if (s->err) {
			errs++;
			if (!first_err)
				first_err = s->err;
			continue;
		}
		count += s->count;
		total += s->kept;
		if (s->start_ns < start)
			start = s->start_ns;
		if (s->end_ns > end)
			end = s->end_ns;
	}
	all = total ? malloc(total * sizeof(*all)) : NULL;
	if (all) {
		total = 0;
		for (j = 0; j < nclients; j++) {
			if (slots[j].err)
				continue;
			memcpy(all + total, slots[j].samples_ns,
			       slots[j].kept * sizeof(*all));
			total += slots[j].kept;
		}
		qsort(all, total, sizeof(*all), cmp_u32);
	}
	secs = end > start ? (double)(end - start) / 1e9 : 0;
	rps = secs > 0 ? (double)count / secs : 0;
	snprintf(what, sizeof(what),
		 "path=%s size=%zu clients=%d requests=%llu errors=%d",
		 t->name, size, nclients, (unsigned long long)count, errs);
	ktap_diag("vtcio-bench: %s seconds=%.3f rps=%.1f mbps=%.3f p50_us=%.1f p99_us=%.1f",
		  what, secs, rps, rps * (double)size / 1e6,
		  all ? percentile_us(all, total, 50) : 0,
		  all ? percentile_us(all, total, 99) : 0);
	free(all);
	munmap(slots, one * nclients);
	if (errs || !count) {
		snprintf(reason, sizeof(reason), "%d of %d clients failed: %s",
			 errs, nclients,
			 first_err ? tcio_errno_name(first_err) : "none ran");
		ktap_result(k, KTAP_FAIL, name, reason);
		return -1;
	}
	ktap_result(k, KTAP_PASS, name, NULL);
	return 0;
}

/**
 * write_param() - write a number to a file (a module parameter)
 * @path: the file
 * @v: the number
 *
 * Return: 0 or -errno.
 */
static int write_param(const char *path, unsigned long v)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fprintf(f, "%lu\n", v) < 0 ? -EIO : 0;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

/**
 * measure_swept() - measure(), once per --sweep value for a device
 * @t: the target
 * @o: options
 * @size: payload bytes
 * @nclients: processes
 * @k: the KTAP printer
 */
static void measure_swept(const struct bench_target *t,
			  const struct bench_opts *o, size_t size,
			  int nclients, struct ktap *k)
{
	const char *param;
	struct bench_target v = *t;
	char name[96];
	int j, rc;

	if (t->port || !o->nsweep) {
		measure(t, o, size, nclients, k);
		return;
	}
	param = strrchr(o->sweep_file, '/');
	param = param ? param + 1 : o->sweep_file;
	for (j = 0; j < o->nsweep; j++) {
		snprintf(name, sizeof(name), "%s@%s=%lu", t->name, param,
			 o->sweep[j]);
		v.name = name;
		rc = write_param(o->sweep_file, o->sweep[j]);
		if (rc) {
			ktap_diag("write %lu to %s: %s", o->sweep[j],
				  o->sweep_file, tcio_errno_name(rc));
			ktap_result(k, KTAP_FAIL, name, tcio_errno_name(rc));
			continue;
		}
		measure(&v, o, size, nclients, k);
	}
}

/**
 * timer_probe() - how long sleeps of @us microseconds take here
 * @us: the sleep asked for
 *
 * Return: 0.
 */
static int timer_probe(unsigned int us)
{
	static __u32 took[200];
	struct timespec ts = { .tv_nsec = (long)us * 1000 };
	size_t i, n = ARRAY_SIZE(took);
	__u64 t0;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		nanosleep(&ts, NULL);
		took[i] = (__u32)(now_ns() - t0);
	}
	qsort(took, n, sizeof(took[0]), cmp_u32);
	printf("vtcio-bench: timer sleep_us=%u samples=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       us, n, percentile_us(took, n, 50), percentile_us(took, n, 99),
	       took[n - 1] / 1000.0);
	return 0;
}

/**
 * serve_vsock() - echo every connection's bytes back, one process each
 * @port: the port to listen on, any CID
 *
 * Return: only on failure, the exit status.
 */
static int serve_vsock(unsigned int port)
{
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	static unsigned char buf[65536];
	ssize_t n;
	int lfd, fd;

	signal(SIGCHLD, SIG_IGN);
	lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 64)) {
		fprintf(stderr, "tcio-bench: vsock port %u: %s\n", port,
			strerror(errno));
		return 1;
	}
	fprintf(stderr, "tcio-bench: vsock echo on port %u\n", port);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "tcio-bench: accept: %s\n",
				strerror(errno));
			return 1;
		}
		if (fork() == 0) {
			close(lfd);
			while ((n = read(fd, buf, sizeof(buf))) > 0 ||
			       (n < 0 && errno == EINTR))
				if (n > 0 && io_all(fd, buf, (size_t)n, true))
					break;
			_exit(0);
		}
		close(fd);
	}
}

/**
 * parse_list() - parse "a,b,c" of whole numbers
 * @s: the text
 * @out: the values
 * @max: room
 * @least: smallest value allowed
 * @limit: largest value allowed
 *
 * Return: how many, or -1 when malformed.
 */
static int parse_list(const char *s, unsigned long *out, int max,
		      unsigned long least, unsigned long limit)
{
	char *end;
	int n = 0;

	while (*s) {
		if (n == max)
			return -1;
		errno = 0;
		out[n] = strtoul(s, &end, 10);
		if (errno || end == s || out[n] < least || out[n] > limit ||
		    (*end && *end != ','))
			return -1;
		n++;
		s = *end ? end + 1 : end;
	}
	return n ? n : -1;
}

/**
 * help() - print the options
 * @out: where
 */
static void help(FILE *out)
{
	fprintf(out,
		"usage: tcio-bench [options] --device PATH [--vsock CID:PORT]\n"
		"       tcio-bench --serve-vsock PORT\n"
		"       tcio-bench --timer-probe US\n"
		"  --device PATH      echo through this tcio device\n"
		"  --vsock CID:PORT   and through this vsock echo service\n"
		"  --sizes LIST       payload bytes (default 64,1024,%zu)\n"
		"  --clients LIST     concurrent clients (default 1,4; max %d)\n"
		"  --seconds S        per measurement (default 2)\n"
		"  --warmup N         untimed round trips per client (default 5)\n"
		"  --serve-vsock PORT run the vsock echo service\n"
		"  --timer-probe US   time 200 sleeps of US microseconds\n"
		"  --sweep FILE=LIST  measure the device once per value written\n"
		"                     to FILE\n",
		TCIO_MAX_PAYLOAD, BENCH_MAX_CLIENTS);
}

/**
 * parse() - parse the command line
 * @argc: argument count
 * @argv: arguments
 * @o: filled in
 *
 * Return: 0, 1 after --help, -EINVAL on a bad option.
 */
static int parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "vsock", required_argument, NULL, 'v' },
		{ "serve-vsock", required_argument, NULL, 'S' },
		{ "sizes", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 't' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "timer-probe", required_argument, NULL, 'T' },
		{ "sweep", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v[BENCH_MAX_SIZES];
	char *end;
	int c, n, i;

	memset(o, 0, sizeof(*o));
	o->sizes[0] = 64;
	o->sizes[1] = 1024;
	o->sizes[2] = TCIO_MAX_PAYLOAD;
	o->nsizes = 3;
	o->clients[0] = 1;
	o->clients[1] = 4;
	o->nclients = 2;
	o->seconds = 2;
	o->warmup = 5;
	while ((c = getopt_long(argc, argv, "d:v:S:s:c:t:w:T:W:h", lopts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			o->device = optarg;
			break;
		case 'v':
			if (sscanf(optarg, "%u:%u", &o->vsock_cid,
				   &o->vsock_port) != 2 || !o->vsock_port)
				return -EINVAL;
			break;
		case 'S':
			o->serve_port = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !o->serve_port)
				return -EINVAL;
			break;
		case 's':
		case 'c':
			n = parse_list(optarg, v, BENCH_MAX_SIZES, 1,
				       c == 's' ? TCIO_MAX_PAYLOAD :
				       BENCH_MAX_CLIENTS);
			if (n < 0)
				return -EINVAL;
			for (i = 0; i < n; i++) {
				if (c == 's')
					o->sizes[i] = v[i];
				else
					o->clients[i] = (int)v[i];
			}
			if (c == 's')
				o->nsizes = n;
			else
				o->nclients = n;
			break;
		case 't':
			o->seconds = strtod(optarg, &end);
			if (*end || !(o->seconds > 0 && o->seconds <= 600))
				return -EINVAL;
			break;
		case 'w':
			o->warmup = (int)strtol(optarg, &end, 10);
			if (*end || o->warmup < 0 || o->warmup > 100000)
				return -EINVAL;
			break;
		case 'W':
			end = strchr(optarg, '=');
			if (!end)
				return -EINVAL;
			*end = '\0';
			o->sweep_file = optarg;
			o->nsweep = parse_list(end + 1, o->sweep, BENCH_MAX_SIZES,
					       0, ULONG_MAX);
			if (o->nsweep < 0)
				return -EINVAL;
			break;
		case 'T':
			o->probe_us = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !o->probe_us || o->probe_us > 1000000)
				return -EINVAL;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || (!o->serve_port && !o->device && !o->probe_us))
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char hash[TCIO_SHA256_LEN];
	char hex[2 * TCIO_SHA256_LEN + 1];
	struct bench_target tgt[2];
	struct bench_opts o;
	__u32 st = 0;
	int ntgt = 0, s, c, i, fd, rc;
	struct ktap k;

	rc = parse(argc, argv, &o);
	if (rc) {
		help(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	if (sodium_init() < 0) {
		printf("Bail out! libsodium failed to initialise\n");
		return 1;
	}
	if (o.serve_port)
		return serve_vsock(o.serve_port);
	if (o.probe_us)
		return timer_probe(o.probe_us);

	tgt[ntgt].name = strrchr(o.device, '/') ? strrchr(o.device, '/') + 1 :
						  o.device;
	tgt[ntgt].device = o.device;
	tgt[ntgt++].port = 0;
	if (o.vsock_port) {
		tgt[ntgt].name = "vsock";
		tgt[ntgt].device = NULL;
		tgt[ntgt].cid = o.vsock_cid;
		tgt[ntgt++].port = o.vsock_port;
	}
	fd = tcio_open(o.device, 0);
	if (fd == -EOPNOTSUPP) {
		ktap_start(&k, 1);
		ktap_diag("vtcio: support=unsupported errno=EOPNOTSUPP");
		ktap_result(&k, KTAP_SKIP, "open",
			    "host does not support tcioDD (EOPNOTSUPP)");
		return 0;
	}
	if (fd < 0) {
		ktap_start(&k, 1);
		ktap_diag("open %s: %s", o.device, tcio_errno_name(fd));
		ktap_result(&k, KTAP_FAIL, "open", tcio_errno_name(fd));
		return 1;
	}
	ktap_start(&k, 1 + o.nsizes * o.nclients *
		   (ntgt + (o.nsweep ? o.nsweep - 1 : 0)));
	ktap_diag("vtcio: support=supported");
	/* The runner checks a guest's program hash against its launcher's. */
	if (!tcio_prog_hash(fd, 0, hash, &st) && st == TCIO_STATUS_SUCCESS) {
		tcio_hex(hash, sizeof(hash), hex);
		ktap_diag("vtcio: program_hash=%s", hex);
	}
	close(fd);
	ktap_result(&k, KTAP_PASS, "open", NULL);
	for (s = 0; s < o.nsizes; s++)
		for (c = 0; c < o.nclients; c++)
			for (i = 0; i < ntgt; i++)
				measure_swept(&tgt[i], &o, o.sizes[s],
					      o.clients[c], &k);
	return ktap_exit_code(&k);
}
