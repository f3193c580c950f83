// SPDX-License-Identifier: GPL-2.0
/*
 * tcvm-launch: start QEMU for an L2 guest whose
 * measurement tcService knows.
 *
 *   tcvm-launch --kernel K --initrd I --append CMDLINE
 *               [--device /dev/tcioDD0] -- QEMU-PATH qemu-args...
 *
 * Forks; the child waits on a pipe while the parent registers the child's
 * pid with request 21 (kernel, initrd, command line), then the child execs
 * QEMU with "-kernel K -initrd I -append CMDLINE" added.  The child keeps
 * its pid and start time across exec, which is what the registration is
 * keyed by.  Exits with QEMU's status (128 + signal if it was killed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sodium.h>

#include "tcio_client.h"

static pid_t child_pid;

/**
 * forward() - pass SIGTERM, SIGINT and SIGHUP on to QEMU
 * @sig: the signal
 */
static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/**
 * help() - print the options
 * @out: where
 */
static void help(FILE *out)
{
	fprintf(out,
		"usage: tcvm-launch --kernel K --initrd I --append CMDLINE\n"
		"                   [--device PATH] -- QEMU-PATH qemu-args...\n");
}

/**
 * child_wait_exec() - the child: wait for the go-ahead, then exec QEMU
 * @fd: read end of the pipe
 * @argv: QEMU's full argv
 */
static void __noreturn
child_wait_exec(int fd, char **argv)
{
	char go = 0;
	ssize_t n;

	do {
		n = read(fd, &go, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1 || go != 'g')
		_exit(125);
	close(fd);
	execvp(argv[0], argv);
	fprintf(stderr, "tcvm-launch: exec %s: %s\n", argv[0],
		strerror(errno));
	_exit(127);
}

/**
 * register_vm() - request 21 for @pid
 * @device: the host device
 * @pid: the future VMM
 * @kernel: absolute kernel path
 * @initrd: absolute initrd path
 * @cmdline: kernel command line
 * @meas: the measurement
 *
 * Return: 0, or -1 after printing why.
 */
static int register_vm(const char *device, pid_t pid, const char *kernel,
		       const char *initrd, const char *cmdline,
		       unsigned char *meas)
{
	static struct tcio_buf b;
	struct tcio_msg m;
	int fd, n;

	tcio_buf_init(&b);
	tcio_buf_s32(&b, pid);
	tcio_buf_s32(&b, 3);
	tcio_buf_str(&b, kernel);
	tcio_buf_str(&b, initrd);
	tcio_buf_str(&b, cmdline);
	if (b.bad) {
		fprintf(stderr, "tcvm-launch: paths and command line too long\n");
		return -1;
	}
	fd = tcio_open(device, 0);
	if (fd < 0) {
		fprintf(stderr, "tcvm-launch: %s: %s\n", device, strerror(-fd));
		return -1;
	}
	n = tcio_call(fd, TCIO_REQ_REGISTER_VM, b.p, b.len, &m);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "tcvm-launch: register VM: %s\n",
			n == -EPROTO ? "malformed answer" : strerror(-n));
		return -1;
	}
	if (m.hdr.status != TCIO_STATUS_SUCCESS) {
		fprintf(stderr, "tcvm-launch: register VM: status %s%s\n",
			tcio_status_name(m.hdr.status),
			m.hdr.status == TCIO_STATUS_DENIED ?
			" (must run as root)" : "");
		return -1;
	}
	if (m.hdr.req_id != TCIO_ANS_REGISTER_VM ||
	    tcio_get_typed(&m, TCIO_BUF_SHA256, meas, TCIO_SHA256_LEN)) {
		fprintf(stderr, "tcvm-launch: register VM: malformed answer\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kernel = NULL, *initrd = NULL, *cmdline = NULL;
	const char *device = TCIO_HOST_DEVICE;
	char kpath[PATH_MAX], ipath[PATH_MAX], hex[2 * TCIO_SHA256_LEN + 1];
	unsigned char meas[TCIO_SHA256_LEN];
	int c, i, nq, pipefd[2], status;
	struct sigaction sa;
	char **qargv;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "+k:i:a:d:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kernel = optarg;
			break;
		case 'i':
			initrd = optarg;
			break;
		case 'a':
			cmdline = optarg;
			break;
		case 'd':
			device = optarg;
			break;
		case 'h':
			help(stdout);
			return 0;
		default:
			help(stderr);
			return 2;
		}
	}
	nq = argc - optind;
	if (!kernel || !initrd || !cmdline || nq < 1) {
		help(stderr);
		return 2;
	}
	if (!realpath(kernel, kpath) || !realpath(initrd, ipath)) {
		fprintf(stderr, "tcvm-launch: %s: %s\n",
			realpath(kernel, kpath) ? initrd : kernel,
			strerror(errno));
		return 1;
	}
	if (sodium_init() < 0)
		return 1;
	qargv = calloc((size_t)nq + 7, sizeof(*qargv));
	if (!qargv)
		return 1;
	for (i = 0; i < nq; i++)
		qargv[i] = argv[optind + i];
	qargv[i++] = "-kernel";
	qargv[i++] = kpath;
	qargv[i++] = "-initrd";
	qargv[i++] = ipath;
	qargv[i++] = "-append";
	qargv[i++] = (char *)cmdline;
	qargv[i] = NULL;

	if (pipe2(pipefd, O_CLOEXEC)) {
		perror("tcvm-launch: pipe");
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("tcvm-launch: fork");
		return 1;
	}
	if (pid == 0) {
		close(pipefd[1]);
		child_wait_exec(pipefd[0], qargv);
	}
	close(pipefd[0]);
	child_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (register_vm(device, pid, kpath, ipath, cmdline, meas)) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		fprintf(stderr, "tcvm-launch: not starting QEMU: the VM could not be registered\n");
		return 1;
	}
	tcio_hex(meas, sizeof(meas), hex);
	fprintf(stderr, "vtcio: l2 measurement=%s\n", hex);
	if (write(pipefd[1], "g", 1) != 1) {
		perror("tcvm-launch: start QEMU");
		kill(pid, SIGKILL);
	}
	close(pipefd[1]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("tcvm-launch: waitpid");
			return 1;
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
