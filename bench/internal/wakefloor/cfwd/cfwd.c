/*
 * cfwd is wakefloor's forwarder in C: the wake-up floor with no language runtime. It answers
 * each datagram on 127.0.0.1:40000 with n 1200-byte datagrams to ports 40001..40000+n and,
 * once no datagram has come for 3 s, prints its CPU (getrusage) per wake-up and per datagram.
 * Run it against wakefloor -mode gen (see ../main.go):
 *
 *	gcc -O2 -o cfwd cfwd.c && taskset -c 1 ./cfwd 10
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

static double usec(struct timeval t) { return t.tv_sec * 1e6 + t.tv_usec; }

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 10;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("cfwd: bind");
		return 1;
	}
	struct timeval quiet = {3, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &quiet, sizeof quiet);
	static char in[1500], out[1200];
	long wakes = 0, sent = 0;
	struct rusage r0, r1;
	struct timeval t0, t1;
	for (;;) {
		if (recv(s, in, sizeof in, 0) < 0) {
			if (wakes > 0)
				break;
			continue; /* the generator has not started yet */
		}
		if (wakes++ == 0) {
			getrusage(RUSAGE_SELF, &r0);
			gettimeofday(&t0, NULL);
		}
		for (int i = 0; i < n; i++) {
			struct sockaddr_in d = a;
			d.sin_port = htons(40001 + i);
			if (sendto(s, out, sizeof out, 0, (struct sockaddr *)&d, sizeof d) > 0)
				sent++;
		}
	}
	getrusage(RUSAGE_SELF, &r1);
	gettimeofday(&t1, NULL);
	double used = usec(r1.ru_utime) - usec(r0.ru_utime) + usec(r1.ru_stime) - usec(r0.ru_stime);
	double el = (usec(t1) - usec(t0)) / 1e6 - 3;
	printf("%ld wake-ups (%.0f/s), %ld datagrams sent: %.0f µs per wake-up, %.1f µs per datagram\n",
	       wakes, wakes / el, sent, used / wakes, used / (sent > 0 ? sent : 1));
	return 0;
}
