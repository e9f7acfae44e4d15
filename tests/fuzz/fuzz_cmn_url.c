/* Fuzz target: a URL as herdctl and herd-agent-setup take it (--url,
 * --api-url, HERD_URL) through cmn_url_parse and cmn_url_parse_named
 * (common/cmn_https.c).
 * Both must agree; a failure must say why (CMN_ERR_INVALID); a success
 * must give what a request relies on: a non-empty printable host, a port
 * in 1..65535, https or http as the input says, and a target that starts
 * with '/' and can go into an HTTP request line as is. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmn_err.h"
#include "cmn_https.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_MAX_INPUT 4096

/* Printable ASCII without blanks, within `size` bytes and terminated. */
static int
s_clean(const char *s, size_t size, int allow_empty)
{
    size_t n = strnlen(s, size);
    if (n == size || (n == 0 && !allow_empty))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static void
s_check(const char *text, const cmn_url_t *u)
{
    if (!s_clean(u->host, sizeof(u->host), 0) ||
        strpbrk(u->host, "/?#@[]") != NULL)
        abort();
    if (u->port < 1 || u->port > 65535)
        abort();
    bool https = strncasecmp(text, "https://", 8) == 0;
    bool http = strncasecmp(text, "http://", 7) == 0;
    if (!https && !http)
        abort();                /* only those two schemes are accepted */
    if (u->tls != https)
        abort();
    if (!s_clean(u->target, sizeof(u->target), 0) || u->target[0] != '/' ||
        strchr(u->target, '#') != NULL)
        abort();
    if (u->fragment != (strchr(text, '#') != NULL))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > S_MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    cmn_url_t a, b;
    cmn_err_reset();
    int ra = cmn_url_parse(text, &a);
    if (ra == 0)
        s_check(text, &a);
    else if (ra != -1 || cmn_err_code() != CMN_ERR_INVALID)
        abort();                /* a failure must say why */

    cmn_err_reset();
    int rb = cmn_url_parse_named(text, "HERD_URL", &b);
    if (rb != ra)
        abort();
    if (rb == 0 && memcmp(&a, &b, sizeof(a)) != 0)
        abort();
    if (rb < 0 && (cmn_err_code() != CMN_ERR_INVALID ||
                   strncmp(cmn_err_msg(), "HERD_URL", 8) != 0))
        abort();                /* the error names where the URL came from */
    free(text);
    return 0;
}
