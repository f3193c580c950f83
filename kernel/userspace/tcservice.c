// SPDX-License-Identifier: GPL-2.0
/*
 * The trusted service tcService, service behind /dev/tcioDD0.
 *
 * Registers itself with tcioDD (TCIODD_IOC_REGISTER_SERVICE), then reads
 * one request at a time, hands it to svc_core and writes the answer back.
 * This file holds everything that touches the system: options, the key
 * file, /proc, hashing files, starting programs, signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "svc_core.h"

#define TCS_DEFAULT_DEVICE	"/dev/tcioDD0"
#define TCS_DEFAULT_STATE	"/var/lib/tcservice"
#define TCS_KEY_FILE		"tcservice.key"
#define TCS_VM_FILE		"tcservice.vms"
#define TCS_APP_PATH		"PATH=/usr/local/sbin:/usr/local/bin:" \
				"/usr/sbin:/usr/bin:/sbin:/bin"

/**
 * struct tcs_opts - command line
 * @device: the host device
 * @state_dir: where the key file lives
 * @ready_file: written once registered, removed on exit (or NULL)
 * @foreground: do not detach
 */
struct tcs_opts {
	const char *device;
	const char *state_dir;
	const char *ready_file;
	bool foreground;
};

static volatile sig_atomic_t tcs_stop;
static volatile sig_atomic_t tcs_child;

/**
 * tcs_log() - one line to stderr, prefixed with the program name
 * @fmt: printf format
 */
static void __printf(1, 2)
tcs_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "tcservice: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

/**
 * tcs_log_limited() - like tcs_log() but at most 10 lines a minute
 * @fmt: printf format
 *
 * For failures a caller can cause (an answer nobody takes any more).
 */
static void __printf(1, 2)
tcs_log_limited(const char *fmt, ...)
{
	static time_t window;
	static unsigned int count, dropped;
	time_t now = time(NULL);
	char line[512];
	va_list ap;

	if (now - window >= 60) {
		if (dropped)
			tcs_log("%u messages suppressed", dropped);
		window = now;
		count = 0;
		dropped = 0;
	}
	if (++count > 10) {
		dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tcs_log("%s", line);
}

/**
 * tcs_core_log() - &svc_ops.log
 * @ctx: unused
 * @msg: the line
 */
static void tcs_core_log(void *ctx, const char *msg)
{
	(void)ctx;
	tcs_log("%s", msg);
}

/**
 * tcs_read_all() - read up to @len bytes, retrying short reads
 * @fd: file
 * @buf: destination
 * @len: room
 *
 * Return: bytes read (less than @len only at end of file), or -errno.
 */
static ssize_t tcs_read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/**
 * tcs_write_all() - write all of @len bytes
 * @fd: file
 * @buf: source
 * @len: bytes
 *
 * Return: 0 or -errno.
 */
static int tcs_write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/**
 * tcs_hash_fd() - feed a file's bytes into a SHA-256 state
 * @fd: open file, read from its current offset to the end
 * @st: the state
 *
 * Return: 0 or -errno.
 */
static int tcs_hash_fd(int fd, crypto_hash_sha256_state *st)
{
	unsigned char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		crypto_hash_sha256_update(st, buf, (unsigned long long)n);
	}
}

/**
 * tcs_stat_id() - identity of a file from its stat
 * @sb: the stat
 * @id: filled in
 */
static void tcs_stat_id(const struct stat *sb, struct svc_exe_id *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = (__u64)sb->st_dev;
	id->ino = (__u64)sb->st_ino;
	id->size = (__u64)sb->st_size;
	id->mtime_ns = (__s64)sb->st_mtim.tv_sec * 1000000000 +
		       sb->st_mtim.tv_nsec;
	id->ctime_ns = (__s64)sb->st_ctim.tv_sec * 1000000000 +
		       sb->st_ctim.tv_nsec;
}

/**
 * tcs_start_time() - &svc_ops.start_time from /proc/<pid>/stat
 * @ctx: unused
 * @pid: the process
 * @start: its start time
 *
 * Return: 0 or -errno (-ESRCH if there is no such process).
 */
static int tcs_start_time(void *ctx, pid_t pid, __u64 *start)
{
	char path[64], buf[2048];
	ssize_t n;
	int fd;

	(void)ctx;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = tcs_read_all(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return (int)n;
	return svc_parse_start_time(buf, (size_t)n, start);
}

/**
 * tcs_exe_id() - &svc_ops.exe_id: stat of /proc/<pid>/exe
 * @ctx: unused
 * @pid: the process
 * @id: identity of its executable
 *
 * Return: 0 or -errno.
 */
static int tcs_exe_id(void *ctx, pid_t pid, struct svc_exe_id *id)
{
	struct stat sb;
	char path[64];

	(void)ctx;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &sb))
		return errno == ENOENT ? -ESRCH : -errno;
	tcs_stat_id(&sb, id);
	return 0;
}

/**
 * tcs_hash_open_file() - SHA-256 and identity of an open regular file
 * @fd: the file, at offset 0
 * @hash: its SHA-256
 * @id: its identity
 *
 * Return: 0 or -errno (-EINVAL if it is not a regular file).
 */
static int tcs_hash_open_file(int fd, unsigned char *hash,
			      struct svc_exe_id *id)
{
	crypto_hash_sha256_state st;
	struct stat sb;
	int rc;

	if (fstat(fd, &sb))
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EINVAL;
	tcs_stat_id(&sb, id);
	crypto_hash_sha256_init(&st);
	rc = tcs_hash_fd(fd, &st);
	if (rc)
		return rc;
	crypto_hash_sha256_final(&st, hash);
	return 0;
}

/**
 * tcs_exe_hash() - &svc_ops.exe_hash: SHA-256 of /proc/<pid>/exe
 * @ctx: unused
 * @pid: the process
 * @hash: SHA-256 of its executable
 * @id: identity of the file hashed
 *
 * Return: 0 or -errno.
 */
static int tcs_exe_hash(void *ctx, pid_t pid, unsigned char *hash,
			struct svc_exe_id *id)
{
	char path[64];
	int fd, rc;

	(void)ctx;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	rc = tcs_hash_open_file(fd, hash, id);
	close(fd);
	return rc;
}

/**
 * tcs_hash_file() - &svc_ops.hash_file
 * @ctx: unused
 * @path: a regular file
 * @st: SHA-256 state fed with its bytes
 *
 * Return: 0 or -errno.
 */
static int tcs_hash_file(void *ctx, const char *path,
			 crypto_hash_sha256_state *st)
{
	struct stat sb;
	int fd, rc;

	(void)ctx;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb))
		rc = -errno;
	else if (!S_ISREG(sb.st_mode))
		rc = -EINVAL;
	else
		rc = tcs_hash_fd(fd, st);
	close(fd);
	return rc;
}

/**
 * tcs_child_exec() - in a new child: execute the opened program
 * @fd: the program, opened O_CLOEXEC and already hashed
 * @argv: arguments
 * @errpipe: write end of a close-on-exec pipe for the exec errno
 *
 * Executes the very file that was hashed (fexecve), so it can not be
 * swapped between hashing and exec.  A script (whose interpreter must open
 * the file through /dev/fd) needs the descriptor kept across exec.
 */
static void __noreturn
tcs_child_exec(int fd, char *const argv[], int errpipe)
{
	static const char *const envp[] = { TCS_APP_PATH, NULL };
	sigset_t none;
	int err, null;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	fexecve(fd, argv, (char *const *)envp);
	if (errno == ENOENT) {
		fcntl(fd, F_SETFD, 0);
		fexecve(fd, argv, (char *const *)envp);
	}
	err = errno;
	if (write(errpipe, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/**
 * tcs_spawn() - &svc_ops.spawn: start a program as a child
 * @ctx: unused
 * @argv: arguments, argv[0] an absolute path
 * @pid: the child
 * @hash: SHA-256 of the file executed
 * @id: its identity
 *
 * The child gets a fixed PATH, /dev/null as stdin and stdout, the
 * service's stderr, a new session and default signal handling.
 *
 * Return: 0 or -errno (also the child's exec errno).
 */
static int tcs_spawn(void *ctx, char *const argv[], pid_t *pid,
		     unsigned char *hash, struct svc_exe_id *id)
{
	int fd, pipefd[2], err = 0, rc;
	ssize_t n;
	pid_t child;

	(void)ctx;
	fd = open(argv[0], O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	rc = tcs_hash_open_file(fd, hash, id);
	if (rc)
		goto close_fd;
	if (pipe2(pipefd, O_CLOEXEC)) {
		rc = -errno;
		goto close_fd;
	}
	child = fork();
	if (child < 0) {
		rc = -errno;
		goto close_pipe;
	}
	if (child == 0) {
		close(pipefd[0]);
		tcs_child_exec(fd, argv, pipefd[1]);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	n = tcs_read_all(pipefd[0], &err, sizeof(err));
	if (n == sizeof(err)) {
		/* exec failed: the child exits at once; reap it here. */
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		rc = err ? -err : -ENOEXEC;
		goto close_pipe;
	}
	*pid = child;
	rc = 0;
close_pipe:
	close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
close_fd:
	close(fd);
	return rc;
}

/**
 * tcs_kill_app() - &svc_ops.kill_app: SIGTERM to a started program
 * @ctx: unused
 * @pid: the program (our unreaped child, so the pid can not be reused)
 *
 * Return: 0 or -errno.
 */
static int tcs_kill_app(void *ctx, pid_t pid)
{
	(void)ctx;
	return kill(pid, SIGTERM) ? -errno : 0;
}

static const struct svc_ops tcs_ops = {
	.start_time = tcs_start_time,
	.exe_id = tcs_exe_id,
	.exe_hash = tcs_exe_hash,
	.hash_file = tcs_hash_file,
	.spawn = tcs_spawn,
	.kill_app = tcs_kill_app,
	.log = tcs_core_log,
};

/**
 * tcs_mkdir_p() - create a directory and its parents, mode 0700
 * @path: the directory
 *
 * Return: 0 or -errno.
 */
static int tcs_mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t i, len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

/**
 * tcs_load_keys() - read the key file
 * @path: the key file
 * @keys: filled in
 *
 * The file must be a regular file owned by us that nobody else may read.
 *
 * Return: 0, -ENOENT if there is none, another -errno if it is unusable.
 */
static int tcs_load_keys(const char *path, struct svc_keys *keys)
{
	unsigned char buf[SVC_KEYFILE_LEN + 1];
	struct stat sb;
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077)) {
		tcs_log("%s: must be a regular file of ours, mode 0600",
			path);
		rc = -EPERM;
		goto out;
	}
	n = tcs_read_all(fd, buf, sizeof(buf));
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	rc = svc_keys_decode(keys, buf, (size_t)n);
	if (rc)
		tcs_log("%s: not a key file of this version", path);
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/**
 * tcs_create_keys() - make new keys and store them, unless a file exists
 * @dir: the state directory
 * @path: the key file
 * @keys: filled in
 *
 * The new file is written under a temporary name, synced and linked into
 * place, so a concurrent start never replaces keys another one made.
 *
 * Return: 0, -EEXIST if a key file appeared meanwhile, another -errno.
 */
static int tcs_create_keys(const char *dir, const char *path,
			   struct svc_keys *keys)
{
	unsigned char buf[SVC_KEYFILE_LEN];
	char tmp[PATH_MAX];
	int fd, dfd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	rc = svc_keys_generate(keys);
	if (rc)
		return rc;
	svc_keys_encode(keys, buf, sizeof(buf));
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		rc = -errno;
		goto wipe;
	}
	rc = tcs_write_all(fd, buf, sizeof(buf));
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	if (!rc && link(tmp, path))
		rc = -errno;
	unlink(tmp);
	if (rc)
		goto wipe;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	tcs_log("created new keys in %s", path);
wipe:
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

/**
 * tcs_keys() - load the service's keys, making them on first start
 * @dir: the state directory
 * @keys: filled in
 *
 * Return: 0 or -errno.
 */
static int tcs_keys(const char *dir, struct svc_keys *keys)
{
	char path[PATH_MAX];
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, TCS_KEY_FILE) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = tcs_mkdir_p(dir);
	if (rc) {
		tcs_log("%s: %s", dir, strerror(-rc));
		return rc;
	}
	rc = tcs_load_keys(path, keys);
	if (rc != -ENOENT)
		return rc;
	rc = tcs_create_keys(dir, path, keys);
	if (rc == -EEXIST)
		rc = tcs_load_keys(path, keys);
	if (rc)
		tcs_log("%s: %s", path, strerror(-rc));
	return rc;
}

/**
 * tcs_vm_path() - the VM file's path
 * @dir: the state directory
 * @path: PATH_MAX bytes
 *
 * Return: 0 or -ENAMETOOLONG.
 */
static int tcs_vm_path(const char *dir, char *path)
{
	if (snprintf(path, PATH_MAX, "%s/%s", dir, TCS_VM_FILE) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/**
 * tcs_save_vms() - write the VM registrations to the state directory
 * @dir: the state directory
 * @core: the core
 *
 * Written under a temporary name and renamed into place, so a service
 * killed while writing leaves the previous file whole.
 *
 * Return: 0 or -errno.
 */
static int tcs_save_vms(const char *dir, const struct svc_core *core)
{
	static unsigned char buf[SVC_VMFILE_MAX];
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t len;
	int fd, rc;

	rc = tcs_vm_path(dir, path);
	if (rc)
		return rc;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	rc = svc_core_vms_encode(core, buf, sizeof(buf), &len);
	if (rc)
		return rc;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	rc = tcs_write_all(fd, buf, len);
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/**
 * tcs_load_vms() - take back the VM registrations of an earlier run
 * @dir: the state directory
 * @core: the new core
 *
 * A missing file is a first start.  A file that is not ours or not a VM
 * file is ignored (logged): VMs registered before are then unknown.
 */
static void tcs_load_vms(const char *dir, struct svc_core *core)
{
	static unsigned char buf[SVC_VMFILE_MAX + 1];
	char path[PATH_MAX];
	struct stat sb;
	ssize_t n;
	int fd, rc;

	if (tcs_vm_path(dir, path))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			tcs_log("%s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid() || (sb.st_mode & 077)) {
		tcs_log("%s: must be a regular file of ours, mode 0600; ignored",
			path);
		close(fd);
		return;
	}
	n = tcs_read_all(fd, buf, sizeof(buf));
	close(fd);
	rc = n < 0 ? (int)n : svc_core_vms_restore(core, buf, (size_t)n);
	if (rc < 0)
		tcs_log("%s: not a VM file of this version; ignored", path);
	else if (rc)
		tcs_log("restored %d VM registration%s from %s", rc,
			rc == 1 ? "" : "s", path);
}

/**
 * tcs_self_hash() - SHA-256 of the service's own executable
 * @hash: filled in
 *
 * Return: 0 or -errno.
 */
static int tcs_self_hash(unsigned char *hash)
{
	struct svc_exe_id id;
	int fd, rc;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = tcs_hash_open_file(fd, hash, &id);
	close(fd);
	return rc;
}

/**
 * tcs_write_ready() - write the ready file: our pid and a newline
 * @path: the file
 *
 * Return: 0 or -errno.
 */
static int tcs_write_ready(const char *path)
{
	char tmp[PATH_MAX], line[32];
	int fd, rc, n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = tcs_write_all(fd, line, (size_t)n);
	close(fd);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/**
 * tcs_on_signal() - SIGTERM, SIGINT, SIGCHLD and SIGALRM handler
 * @sig: the signal
 *
 * A signal that lands just before the main loop blocks in read() would be
 * missed, so while something is pending an alarm keeps interrupting the
 * read until the loop has seen it.
 */
static void tcs_on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		tcs_stop = 1;
	else if (sig == SIGCHLD)
		tcs_child = 1;
	if (tcs_stop || tcs_child)
		alarm(1);
}

/**
 * tcs_signals() - install the handlers, without SA_RESTART
 *
 * Return: 0 or -errno.
 */
static int tcs_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGCHLD, SIGALRM };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tcs_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -errno;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	return 0;
}

/**
 * tcs_reap() - reap exited children and tell the core
 * @core: the core
 */
static void tcs_reap(struct svc_core *core)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		svc_core_child_exited(core, pid);
}

/**
 * tcs_serve() - the request loop
 * @fd: the device, registered as service
 * @core: the core
 * @state_dir: where the VM registrations are saved when they change
 *
 * Return: 0 when asked to stop, -errno if the device fails.
 */
static int tcs_serve(int fd, struct svc_core *core, const char *state_dir)
{
	static unsigned char req[SVC_MSG_MAX + TCIO_MAX_MSG];
	static unsigned char ans[SVC_MSG_MAX];
	unsigned int errors = 0, saved = svc_core_vms_generation(core);
	size_t ans_len;
	ssize_t n;
	int rc;

	for (;;) {
		alarm(0);
		if (tcs_child) {
			tcs_child = 0;
			tcs_reap(core);
		}
		if (tcs_stop)
			return 0;
		n = read(fd, req, sizeof(req));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rc = -errno;
			tcs_log_limited("read: %s", strerror(errno));
			if (++errors > 100 || rc == -EBADF || rc == -ENODEV)
				return rc;
			continue;
		}
		errors = 0;
		rc = svc_core_handle(core, req, (size_t)n, ans, sizeof(ans),
				     &ans_len);
		/* Saved before the answer goes out: a registered VM starts then. */
		if (svc_core_vms_generation(core) != saved) {
			saved = svc_core_vms_generation(core);
			if (tcs_save_vms(state_dir, core))
				tcs_log_limited("saving the VM registrations failed");
		}
		if (rc) {
			tcs_log_limited("dropped a malformed message of %zd bytes",
					n);
			continue;
		}
		if (!ans_len)
			continue;
		rc = tcs_write_all(fd, ans, ans_len);
		if (rc)
			tcs_log_limited("write answer: %s", strerror(-rc));
		sodium_memzero(ans, ans_len);
	}
}

/**
 * tcs_daemonize() - detach; the parent exits once the child is ready
 * @ready: set to the write end of a pipe; write a byte to it when ready
 *
 * The parent exits 0 when the child reports readiness and 1 when the
 * child exits first, so whoever started us sees whether we came up.
 *
 * Return: 0 in the child, -errno on failure.
 */
static int tcs_daemonize(int *ready)
{
	int pipefd[2];
	pid_t pid;
	char c;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(pipefd[1]);
		_exit(tcs_read_all(pipefd[0], &c, 1) == 1 ? 0 : 1);
	}
	close(pipefd[0]);
	setsid();
	if (chdir("/"))
		return -errno;
	*ready = pipefd[1];
	return 0;
}

/**
 * tcs_usage() - print the options
 * @out: where
 */
static void tcs_usage(FILE *out)
{
	fprintf(out,
		"usage: tcservice [--device PATH] [--state-dir DIR] [--foreground]\n"
		"                 [--ready-file PATH]\n"
		"  --device PATH      host device (default %s)\n"
		"  --state-dir DIR    keys and VM registrations live here\n"
		"                     (default %s)\n"
		"  --foreground       do not detach\n"
		"  --ready-file PATH  write our pid here once registered\n",
		TCS_DEFAULT_DEVICE, TCS_DEFAULT_STATE);
}

/**
 * tcs_parse() - parse the command line
 * @argc: argument count
 * @argv: arguments
 * @o: filled in
 *
 * Return: 0, 1 after --help, -EINVAL on a bad option.
 */
static int tcs_parse(int argc, char **argv, struct tcs_opts *o)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->device = TCS_DEFAULT_DEVICE;
	o->state_dir = TCS_DEFAULT_STATE;
	o->ready_file = NULL;
	o->foreground = false;
	while ((c = getopt_long(argc, argv, "d:s:fr:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->device = optarg;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'r':
			o->ready_file = optarg;
			break;
		case 'h':
			tcs_usage(stdout);
			return 1;
		default:
			tcs_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		tcs_usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char os_hash[TCIO_SHA256_LEN];
	struct svc_core *core = NULL;
	struct svc_keys keys;
	struct tcs_opts o;
	int fd = -1, ready = -1, rc;
	char hex[2 * TCIO_SHA256_LEN + 1];

	rc = tcs_parse(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	umask(077);
	if (sodium_init() < 0) {
		tcs_log("libsodium failed to initialise");
		return 1;
	}
	if (!o.foreground) {
		rc = tcs_daemonize(&ready);
		if (rc) {
			tcs_log("daemonize: %s", strerror(-rc));
			return 1;
		}
	}
	rc = tcs_signals();
	if (rc)
		goto out;
	rc = tcs_self_hash(os_hash);
	if (rc) {
		tcs_log("hash of /proc/self/exe: %s", strerror(-rc));
		goto out;
	}
	rc = tcs_keys(o.state_dir, &keys);
	if (rc)
		goto out;
	core = svc_core_new(&tcs_ops, NULL, &keys, os_hash);
	sodium_memzero(&keys, sizeof(keys));
	if (!core) {
		tcs_log("out of memory");
		rc = -ENOMEM;
		goto out;
	}
	tcs_load_vms(o.state_dir, core);
	fd = open(o.device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		tcs_log("%s: %s", o.device, strerror(errno));
		goto out;
	}
	if (ioctl(fd, TCIODD_IOC_REGISTER_SERVICE) < 0) {
		rc = -errno;
		tcs_log("%s: register as service: %s", o.device,
			strerror(errno));
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), os_hash, sizeof(os_hash));
	tcs_log("registered on %s (pid %d, os hash %s)", o.device,
		(int)getpid(), hex);
	if (o.ready_file) {
		rc = tcs_write_ready(o.ready_file);
		if (rc) {
			tcs_log("%s: %s", o.ready_file, strerror(-rc));
			goto out;
		}
	}
	if (ready >= 0) {
		if (write(ready, "", 1) != 1)
			tcs_log("could not tell the parent we are ready");
		close(ready);
		ready = -1;
	}
	rc = tcs_serve(fd, core, o.state_dir);
	if (rc)
		tcs_log("%s: %s", o.device, strerror(-rc));
	else
		tcs_log("stopping");
	if (o.ready_file)
		unlink(o.ready_file);
out:
	if (fd >= 0)
		close(fd);
	svc_core_free(core);
	return rc ? 1 : 0;
}
