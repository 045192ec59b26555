// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload.h"

int workload_spawn(struct vl_workload *w)
{
	int go[2], exec_err[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(exec_err, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(exec_err[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(w->cmd[0], w->cmd);
		e = errno;
		if (write(exec_err[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(exec_err[1]);
	w->pid = pid;
	w->go_fd = go[1];
	w->err_fd = exec_err[0];
	return 0;
}

int workload_go(struct vl_workload *w)
{
	int e = 0, ret = 0;

	if (write(w->go_fd, "g", 1) != 1)
		ret = -errno;
	close(w->go_fd);
	w->go_fd = -1;
	if (!ret && read(w->err_fd, &e, sizeof(e)) == sizeof(e)) {
		waitpid(w->pid, NULL, 0);
		ret = -e;
	}
	close(w->err_fd);
	w->err_fd = -1;
	return ret;
}

void workload_abort(struct vl_workload *w)
{
	kill(w->pid, SIGKILL);
	waitpid(w->pid, NULL, 0);
	if (w->go_fd >= 0)
		close(w->go_fd);
	if (w->err_fd >= 0)
		close(w->err_fd);
	w->go_fd = w->err_fd = -1;
}
