/* The profiler's reference workload: burns CPU in hot_a and hot_b in a 3:1 ratio of identical work for the given
 * seconds of wall-clock time, or until it has used the optional second argument's seconds of CPU, prints "cpu_us <utime+stime in microseconds>", then waits for stdin to close.
 * Built with -fno-omit-frame-pointer so that the kernel's frame-pointer walk finds main above both; GCC 12 still drops
 * the frame pointer of leaf functions, so each hot function ends with a call (to publish). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define UNIT 200000L

static volatile unsigned long sink;

__attribute__((noipa)) void publish(unsigned long x)
{
    sink = x;
}

/* noipa: keep both functions, separate and uninlined (identical bodies would otherwise be folded into one) */
__attribute__((noipa)) void hot_a(long n)
{
    unsigned long x = sink;
    for (long i = 0; i < n; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    publish(x);
}

__attribute__((noipa)) void hot_b(long n)
{
    unsigned long x = sink;
    for (long i = 0; i < n; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    publish(x);
}

static long cpu_us(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000L + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double until = now() + atof(argc > 1 ? argv[1] : "5");
    long cpu_budget_us = (long)(atof(argc > 2 ? argv[2] : "0") * 1e6);
    while (now() < until && (cpu_budget_us == 0 || cpu_us() < cpu_budget_us)) {
        hot_a(3 * UNIT);
        hot_b(UNIT);
    }
    printf("cpu_us %ld\n", cpu_us());
    fflush(stdout);
    char buffer[64];
    while (read(0, buffer, sizeof(buffer)) > 0) {
    }
    return 0;
}
