/* The demo's CPU-hungry "checkout" service: prices carts in a loop (about half a CPU on an idle machine), in functions whose share is
 * known (tax twice the discount, the JSON encoding in between). Built with frame pointers by run.sh so that the
 * profiler's flame graph shows the whole call path. */
#include <time.h>

static volatile unsigned long sink;

__attribute__((noipa)) static void store(unsigned long x) { sink = x; }

__attribute__((noipa)) static void spin(long n)
{
    unsigned long x = sink;
    for (long i = 0; i < n; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    store(x);
}

__attribute__((noipa)) void apply_discount(void) { spin(100000); }
__attribute__((noipa)) void compute_tax(void) { spin(200000); }
__attribute__((noipa)) void encode_json(void) { spin(150000); }

__attribute__((noipa)) void price_cart(void)
{
    apply_discount();
    compute_tax();
}

__attribute__((noipa)) void handle_request(void)
{
    price_cart();
    encode_json();
}

int main(void)
{
    struct timespec pause = { 0, 1500000 }; /* rest between requests */
    for (;;) {
        handle_request();
        nanosleep(&pause, 0);
    }
}
