/* herd-agent-setup --fetch-key: the engine's answer to GET
 * /ovirt-engine/services/herd-engine-key, checked. Its own file (not an
 * agt_*.c, so not part of the daemon) so that a fuzz target can link it. */
#ifndef SETUP_KEY_H
#define SETUP_KEY_H

#include <stddef.h>

#include "cmn_keys.h"

/* Parse the answer (HTTP status, body of len bytes, not necessarily
 * NUL-terminated) fetched from `url` (for messages). 0 with the engine key
 * in `key` and its next key in `next` ("" when there is no rotation), both
 * checked to be CURVE keys matching the fingerprints the answer gives; or
 * -1 with an error naming the url: CMN_ERR_UNAVAILABLE for a status other
 * than 200 (with the engine's fault detail), CMN_ERR_PROTOCOL for an
 * answer that is not a JSON object, has no public_key or a bad key. */
int agt_setup_key_answer(int status, const char *body, size_t len,
                         const char *url, char key[CMN_KEY_Z85_LEN + 1],
                         char next[CMN_KEY_Z85_LEN + 1]);

#endif /* SETUP_KEY_H */
