/* Fuzz target: a YAML config file through cmn_conf_load_data() with a key
 * table shaped like the daemons' (strings, bounded integers, booleans, log
 * levels, nested mappings, a required key). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_conf.h"
#include "cmn_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    char *engine;
    char *identity;
    char *log_file;
    char *api_listen;
    int64_t api_port;
    int64_t stats_interval;
    int64_t max_bytes;
    int64_t deep;
    bool kvm;
    bool tls;
    int log_level;
} fuzz_conf_t;

static const cmn_conf_key_t s_keys[] = {
    { "engine", CMN_CONF_STR, offsetof(fuzz_conf_t, engine), 0, 0, true },
    { "identity", CMN_CONF_STR, offsetof(fuzz_conf_t, identity), 0, 0, false },
    { "log_file", CMN_CONF_STR, offsetof(fuzz_conf_t, log_file), 0, 0, false },
    { "log_level", CMN_CONF_LEVEL, offsetof(fuzz_conf_t, log_level), 0, 0, false },
    { "api.listen", CMN_CONF_STR, offsetof(fuzz_conf_t, api_listen), 0, 0, false },
    { "api.port", CMN_CONF_INT, offsetof(fuzz_conf_t, api_port), 1, 65535, false },
    { "api.tls", CMN_CONF_BOOL, offsetof(fuzz_conf_t, tls), 0, 0, false },
    { "stats_interval", CMN_CONF_INT, offsetof(fuzz_conf_t, stats_interval), 1, 3600,
      false },
    { "agents.max_message_bytes", CMN_CONF_INT, offsetof(fuzz_conf_t, max_bytes),
      1024, INT64_MAX, false },
    { "a.b.c.d", CMN_CONF_INT, offsetof(fuzz_conf_t, deep), INT64_MIN, INT64_MAX,
      false },
    { "kvm", CMN_CONF_BOOL, offsetof(fuzz_conf_t, kvm), 0, 0, false },
    { NULL, 0, 0, 0, 0, false },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_conf_t c;
    memset(&c, 0, sizeof(c));
    cmn_err_reset();
    if (cmn_conf_set_str(&c.identity, "default") < 0 ||
        cmn_conf_set_str(&c.api_listen, "127.0.0.1") < 0)
        abort();
    c.api_port = 8080;
    c.stats_interval = 15;
    int rc = cmn_conf_load_data("fuzz.yaml", (const char *)data, size, s_keys, &c);
    if (rc == 0) {
        /* Success means every value is within the schema. */
        if (!c.engine || c.api_port < 1 || c.api_port > 65535 ||
            c.stats_interval < 1 || c.stats_interval > 3600 ||
            c.log_level < 0 || c.log_level > 3)
            abort();
    } else if (rc != -1 || cmn_err_code() == CMN_OK) {
        abort();
    }
    cmn_conf_free_strings(s_keys, &c);
    return 0;
}
