/*
 * Runs the ClickHouse engine that the npm package `chdb` ships (libchdb) as a local server: clickhouse-local with its
 * HTTP listener, kept alive by a long-running query. Node cannot host the engine (ClickHouse's stack checks reject a
 * foreign stack), so a small native process does.
 *
 *   gs-clickhouse --lib=LIBCHDB --stop-port=P --stop-query-id=ID --stop-credentials=FILE -- <clickhouse-local args>
 *
 * SIGTERM/SIGINT stop it gracefully: the keep-alive query (started with --query_id=ID) is cancelled through the
 * HTTP listener with the service user's credentials (FILE holds CLICKHOUSE_USER=... and CLICKHOUSE_PASSWORD=...
 * lines) and clickhouse-local shuts down: it waits up to shutdown_wait_unfinished (5 s) for open client connections,
 * then exits by itself; else it returns here and the process exits 0. Without an answer within 30 s the launcher
 * exits at once (the data stays consistent: ClickHouse acknowledges an insert only after its part is in place).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* the C ABI of chdb.h (clickhouse-local's entry point) */
struct local_result_v2 {
    char *buf;
    size_t len;
    void *_vec;
    double elapsed;
    uint64_t rows_read;
    uint64_t bytes_read;
    char *error_message;
};
typedef struct local_result_v2 *(*query_fn)(int, char **);

static const char *stop_port;
static const char *stop_query_id;
static const char *stop_credentials;
static volatile sig_atomic_t stopping;
static sigset_t stop_signals;

static void log_line(const char *msg, const char *detail) {
    time_t now = time(NULL);
    char at[32];
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(stderr, "%s gs-clickhouse: %s%s%s\n", at, msg, detail ? " " : "", detail ? detail : "");
    fflush(stderr);
}

/* the value of a NAME=value line of the credentials file, or 0 */
static int read_credential(const char *name, char *out, size_t size) {
    FILE *f = fopen(stop_credentials, "r");
    if (!f) return 0;
    char line[512];
    size_t n = strlen(name);
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, n) == 0 && line[n] == '=') {
            line[strcspn(line, "\r\n")] = 0;
            snprintf(out, size, "%s", line + n + 1);
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

/* POSTs KILL QUERY for the keep-alive query to our own listener; 1 when the server answered 200 */
static int cancel_keepalive(void) {
    char user[128], password[256], body[256], request[1024], reply[256];
    if (!read_credential("CLICKHOUSE_USER", user, sizeof user) || !read_credential("CLICKHOUSE_PASSWORD", password, sizeof password)) {
        log_line("no credentials to cancel the keep-alive query in", stop_credentials);
        return 0;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(stop_port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval timeout = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return 0;
    }
    int body_len = snprintf(body, sizeof body, "KILL QUERY WHERE query_id = '%s' ASYNC", stop_query_id);
    int len = snprintf(request, sizeof request,
                       "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nX-ClickHouse-User: %s\r\nX-ClickHouse-Key: %s\r\n"
                       "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                       user, password, body_len, body);
    int ok = write(fd, request, (size_t)len) == len;
    ssize_t got = ok ? read(fd, reply, sizeof reply - 1) : -1;
    if (got > 0) {
        reply[got] = 0;
        ok = strncmp(reply, "HTTP/1.1 200", 12) == 0 || strncmp(reply, "HTTP/1.0 200", 12) == 0;
        /* read the reply to its end, so the server does not fail writing it to a closed socket */
        char rest[512];
        while (read(fd, rest, sizeof rest) > 0) {}
    } else {
        ok = 0;
    }
    close(fd);
    return ok;
}

static void *stopper(void *unused) {
    (void)unused;
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stopping = 1;
    log_line(sig == SIGINT ? "SIGINT: stopping" : "SIGTERM: stopping", NULL);
    if (!cancel_keepalive()) {
        log_line("could not cancel the keep-alive query; exiting at once", NULL);
        _exit(0);
    }
    sleep(30);
    log_line("clickhouse-local did not return within 30 s of the stop; exiting", NULL);
    _exit(0);
    return NULL;
}

static const char *option(const char *arg, const char *name) {
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 ? arg + n : NULL;
}

int main(int argc, char **argv) {
    const char *lib = NULL;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *v;
        if ((v = option(argv[i], "--lib="))) lib = v;
        else if ((v = option(argv[i], "--stop-port="))) stop_port = v;
        else if ((v = option(argv[i], "--stop-query-id="))) stop_query_id = v;
        else if ((v = option(argv[i], "--stop-credentials="))) stop_credentials = v;
        else {
            fprintf(stderr, "gs-clickhouse: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!lib || !stop_port || !stop_query_id || !stop_credentials || i >= argc) {
        fprintf(stderr, "usage: gs-clickhouse --lib=LIBCHDB --stop-port=P --stop-query-id=ID --stop-credentials=FILE -- ARGS\n");
        return 2;
    }

    /* blocked before the engine starts any thread, so every thread inherits the mask and only stopper() sees them */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    pthread_t thread;
    if (pthread_create(&thread, NULL, stopper, NULL) != 0) {
        log_line("cannot start the signal thread", NULL);
        return 1;
    }

    void *handle = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
    if (!handle) {
        log_line("cannot load", dlerror());
        return 1;
    }
    query_fn query = (query_fn)dlsym(handle, "query_stable_v2");
    if (!query) {
        log_line("no query_stable_v2 in", lib);
        return 1;
    }

    /* clickhouse-local's argv: a program name, then the arguments after "--" */
    int local_argc = argc - i;
    char **local_argv = argv + i;
    local_argv[0] = "clickhouse-local";
    log_line("starting clickhouse-local", NULL);
    struct local_result_v2 *result = query(local_argc, local_argv);
    if (stopping) {
        log_line("stopped", NULL);
        exit(0);
    }
    if (result && result->error_message) {
        log_line("clickhouse-local failed:", result->error_message);
        exit(1);
    }
    log_line("the keep-alive query ended unexpectedly", NULL);
    exit(1);
}
