/* The REST API server (evhttp on the context's event_base). */
#ifndef ENG_REST_H
#define ENG_REST_H

#include <stddef.h>

#include "eng_ctx.h"

/* Bind api.listen:api.port and serve. NULL with an error recorded if the
 * address cannot be bound. */
eng_rest_t *eng_rest_new(eng_ctx_t *ctx);
/* The port actually bound (api.port 0 picks a free one). */
int eng_rest_port(const eng_rest_t *rest);
void eng_rest_destroy(eng_rest_t **p);

#endif /* ENG_REST_H */
