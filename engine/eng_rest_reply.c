/* REST replies: a body as XML or JSON per the request's Accept header,
 * collections streamed item by item (eng_rest_lw), faults from the
 * recorded error. See eng_rest_priv.h. */
#include "eng_rest_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_xml.h"

CMN_LOG_INIT("rest");

bool
eng_rest_want_xml(struct evhttp_request *req)
{
    const char *a = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "Accept");
    if (!a || !*a)
        return true;            /* oVirt answers XML unless asked for JSON */
    if (strcasestr(a, "json"))
        return false;
    return true;
}

/* The singular element of a collection name in an href. */
static const char *
s_singular(const char *coll, size_t len)
{
    static const struct { const char *coll, *one; } m[] = {
        { "vms", "vm" }, { "hosts", "host" }, { "clusters", "cluster" },
        { "datacenters", "data_center" }, { "events", "event" },
        { "users", "user" }, { "permissions", "permission" },
        { "nics", "nic" }, { "disk_attachments", "disk_attachment" },
        { "statistics", "statistic" },
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (strlen(m[i].coll) == len && strncmp(coll, m[i].coll, len) == 0)
            return m[i].one;
    return NULL;
}

/* XML root element of a reply tree (see eng_rest_reply). NULL: render as
 * a collection. */
static const char *
s_xml_name(const json_t *body)
{
    if (json_object_size(body) == 1) {
        void *it = json_object_iter((json_t *)body);
        if (json_is_array(json_object_iter_value(it)))
            return NULL;
    }
    if (json_object_get(body, "product_info"))
        return "api";
    bool has_id = json_object_get(body, "id") != NULL;
    if (!has_id && json_object_get(body, "reason") &&
        json_object_get(body, "detail"))
        return "fault";
    if (!has_id && json_object_get(body, "status"))
        return "action";
    const char *href = json_string_value(json_object_get(body, "href"));
    if (href) {
        /* .../<coll>/<id>: the segment before the last one */
        const char *end = strrchr(href, '/');
        if (end && end > href) {
            const char *beg = end - 1;
            while (beg > href && beg[-1] != '/')
                beg--;
            const char *one = s_singular(beg, (size_t)(end - beg));
            if (one)
                return one;
        }
    }
    return "result";
}

void
eng_rest_send(struct evhttp_request *req, int status, const char *ctype,
       const char *text, size_t len)
{
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    if (text)
        evbuffer_add(buf, text, len);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (ctype)
        evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_send_reply(req, status, eng_rest_http_reason(status), buf);
    evbuffer_free(buf);
}

static void
s_reply_fmt(struct evhttp_request *req, int status, const char *name,
            bool by_name, json_t *body, bool xml)
{
    if (!body) {
        eng_rest_send(req, status, NULL, NULL, 0);
        return;
    }
    if (xml) {
        const char *root = by_name ? name : s_xml_name(body);
        char *text = eng_xml_render(body, root);
        if (!text) {
            CMN_WARN("cannot render XML (%s); answering JSON", cmn_err_msg());
        } else {
            eng_rest_send(req, status, "application/xml", text, strlen(text));
            free(text);
            json_decref(body);
            return;
        }
    }
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(body);
    if (!text) {
        eng_rest_send(req, 500, "application/json", "{}\n", 3);
        return;
    }
    size_t len = strlen(text);
    char *t2 = realloc(text, len + 2);
    if (t2) {
        text = t2;
        text[len++] = '\n';
        text[len] = '\0';
    }
    eng_rest_send(req, status, "application/json", text, len);
    free(text);
}

void
eng_rest_reply(struct evhttp_request *req, int status, json_t *body)
{
    s_reply_fmt(req, status, NULL, false, body, eng_rest_want_xml(req));
}

struct eng_rest_lw {
    struct evhttp_request *req;
    struct evbuffer *buf;
    bool xml;
    size_t n;
    char elem[64];
};

eng_rest_lw_t *
eng_rest_lw_new(struct evhttp_request *req, const char *elem)
{
    eng_rest_lw_t *w = calloc(1, sizeof(*w));
    if (!w || !(w->buf = evbuffer_new())) {
        free(w);
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    w->req = req;
    w->xml = eng_rest_want_xml(req);
    snprintf(w->elem, sizeof(w->elem), "%s", elem);
    if (w->xml)
        evbuffer_add_printf(w->buf, "<?xml version=\"1.0\" encoding=\"UTF-8\""
                            " standalone=\"yes\"?>\n<%ss>", w->elem);
    else
        evbuffer_add_printf(w->buf, "{\"%s\":[", w->elem);
    return w;
}

int
eng_rest_lw_add(eng_rest_lw_t *w, json_t *item)
{
    char *text = NULL;
    const char *part = NULL;
    if (w->xml) {
        text = item ? eng_xml_render(item, w->elem) : NULL;
        /* drop each item's own XML declaration */
        const char *decl = text ? strstr(text, "?>\n") : NULL;
        part = decl ? decl + 3 : text;
    } else {
        text = item ? json_dumps(item, JSON_COMPACT | JSON_ENSURE_ASCII)
                    : NULL;
        part = text;
    }
    json_decref(item);
    if (!part) {
        free(text);
        return CMN_ERR(CMN_ERR_NOMEM, "cannot render item %zu of the list",
                       w->n);
    }
    size_t len = strlen(part);
    while (len > 0 && part[len - 1] == '\n')
        len--;
    if (!w->xml && w->n > 0)
        evbuffer_add(w->buf, ",", 1);
    int rc = evbuffer_add(w->buf, part, len);
    free(text);
    w->n++;
    return rc < 0 ? CMN_ERR(CMN_ERR_NOMEM, "out of memory") : 0;
}

int
eng_rest_lw_add_vm(eng_rest_lw_t *w, const eng_vm_t *vm)
{
    if (w->xml)
        return eng_rest_lw_add(w, eng_rest_vm_json(vm));
    if (w->n > 0)
        evbuffer_add(w->buf, ",", 1);
    w->n++;
    return eng_rest_vm_json_write(vm, w->buf);
}

void
eng_rest_lw_abort(eng_rest_lw_t **p)
{
    if (!p || !*p)
        return;
    evbuffer_free((*p)->buf);
    free(*p);
    *p = NULL;
}

void
eng_rest_lw_send(eng_rest_lw_t **p)
{
    eng_rest_lw_t *w = *p;
    if (w->xml)
        evbuffer_add_printf(w->buf, "</%ss>\n", w->elem);
    else
        evbuffer_add(w->buf, "]}\n", 3);
    struct evkeyvalq *h = evhttp_request_get_output_headers(w->req);
    evhttp_add_header(h, "Content-Type", w->xml ? "application/xml"
                                                : "application/json");
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_send_reply(w->req, 200, "OK", w->buf);
    eng_rest_lw_abort(p);
}

void
eng_rest_reply_list(struct evhttp_request *req, const char *elem,
                    const void *const *items, size_t n,
                    json_t *(*render)(const void *item))
{
    eng_rest_lw_t *w = eng_rest_lw_new(req, elem);
    for (size_t i = 0; w && i < n; i++) {
        if (eng_rest_lw_add(w, render(items[i])) < 0)
            eng_rest_lw_abort(&w);
    }
    if (!w) {
        eng_rest_reply_err(req);
        return;
    }
    eng_rest_lw_send(&w);
}

void
eng_rest_reply_as(struct evhttp_request *req, int status, const char *name,
                  json_t *body)
{
    s_reply_fmt(req, status, name, true, body, eng_rest_want_xml(req));
}

void
eng_rest_reply_err(struct evhttp_request *req)
{
    cmn_code_t code = cmn_err_code();
    const char *msg = cmn_err_msg();
    if (code == CMN_OK) {
        code = CMN_ERR_INTERNAL;
        msg = "internal error (no detail recorded)";
    }
    CMN_INFO("%s %s: %d %s", evhttp_request_get_command(req) == EVHTTP_REQ_GET
             ? "GET" : "request", evhttp_request_get_uri(req),
             eng_rest_http_status(code), msg);
    eng_rest_reply(req, eng_rest_http_status(code),
                   eng_rest_fault_json(code, msg));
}
