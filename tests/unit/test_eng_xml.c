/* oVirt v4 XML: rendering of collections, resources, attributes, nested
 * objects, repeated elements and escaping; parsing of request bodies
 * (<action>, a VM, plural wrappers, entities, CDATA, comments) into the
 * JSON form; the parser's refusals (DTD, entities, PIs, depth, size,
 * mismatched tags) with line and column; render -> parse round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cmn_err.h"
#include "eng_xml.h"

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"

static json_t *
J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL)
        fail_msg("bad test JSON '%s': %s", text, e.text);
    return j;
}

static void
render_is(const char *json, const char *name, const char *xml)
{
    json_t *j = J(json);
    cmn_err_reset();
    char *out = eng_xml_render(j, name);
    if (out == NULL)
        fail_msg("render %s: %s", json, cmn_err_msg());
    char want[8192];
    snprintf(want, sizeof(want), DECL "%s\n", xml);
    if (strcmp(out, want) != 0)
        fail_msg("render %s:\n got: %s\nwant: %s", json, out, want);
    free(out);
    json_decref(j);
}

static void
test_render_collection(void **state)
{
    (void)state;
    render_is("{\"vm\": [{\"id\": \"1\", \"href\": \"/api/vms/1\", "
              "\"name\": \"web\"}, {\"id\": \"2\", \"name\": \"db\"}]}", NULL,
              "<vms><vm id=\"1\" href=\"/api/vms/1\"><name>web</name></vm>"
              "<vm id=\"2\"><name>db</name></vm></vms>");
    render_is("{\"vm\": []}", NULL, "<vms/>");
    render_is("{\"data_center\": [{\"name\": \"Default\"}]}", NULL,
              "<data_centers><data_center><name>Default</name>"
              "</data_center></data_centers>");
    render_is("{\"statistic\": [{\"name\": \"memory.used\", "
              "\"values\": {\"value\": [{\"datum\": \"1024\"}]}}]}", NULL,
              "<statistics><statistic><name>memory.used</name><values>"
              "<value><datum>1024</datum></value></values></statistic>"
              "</statistics>");
}

static void
test_render_resource(void **state)
{
    (void)state;
    render_is("{\"id\": \"v1\", \"href\": \"/ovirt-engine/api/vms/v1\", "
              "\"name\": \"demo\", \"status\": \"up\", \"memory\": \"67108864\","
              " \"cpu\": {\"topology\": {\"sockets\": \"1\", \"cores\": \"2\"}},"
              " \"cluster\": {\"id\": \"c1\", \"href\": \"/c/c1\"},"
              " \"display\": {\"type\": \"vnc\", \"port\": 5900},"
              " \"start_time\": 1795000000000, \"stateless\": false,"
              " \"host\": null, \"description\": \"\","
              " \"actions\": {\"link\": [{\"rel\": \"start\", \"href\": \"/s\"},"
              " {\"rel\": \"stop\", \"href\": \"/t\"}]},"
              " \"link\": [{\"rel\": \"statistics\", \"href\": \"/st\"}]}",
              "vm",
              "<vm id=\"v1\" href=\"/ovirt-engine/api/vms/v1\"><name>demo</name>"
              "<status>up</status><memory>67108864</memory><cpu><topology>"
              "<sockets>1</sockets><cores>2</cores></topology></cpu>"
              "<cluster id=\"c1\" href=\"/c/c1\"/><display><type>vnc</type>"
              "<port>5900</port></display><start_time>1795000000000"
              "</start_time><stateless>false</stateless>"
              "<description/><actions><link rel=\"start\" href=\"/s\"/>"
              "<link rel=\"stop\" href=\"/t\"/></actions>"
              "<link rel=\"statistics\" href=\"/st\"/></vm>");
    render_is("{\"reason\": \"Operation Failed\", \"detail\": \"no host\"}",
              "fault", "<fault><reason>Operation Failed</reason>"
              "<detail>no host</detail></fault>");
    render_is("{\"status\": \"complete\"}", "action",
              "<action><status>complete</status></action>");
    render_is("{}", "action", "<action/>");
    /* an "id" that is an object is an element, not an attribute */
    render_is("{\"id\": {\"x\": \"1\"}}", "a", "<a><id><x>1</x></id></a>");
    /* scalar arrays repeat too */
    render_is("{\"tag\": [\"a\", \"b\"]}", "t", "<t><tag>a</tag><tag>b</tag></t>");
    /* blanks other than space survive in attributes as references */
    render_is("{\"id\": \"a\\tb\\nc\"}", "t", "<t id=\"a&#9;b&#10;c\"/>");
}

static void
test_render_escaping(void **state)
{
    (void)state;
    render_is("{\"id\": \"a\\\"<&>'\", \"name\": \"x < y & \\\"z\\\" > 'w'\","
              " \"ctl\": \"a\\u0001b\\tc\", \"utf\": \"caf\\u00e9 \\u2603\"}",
              "vm",
              "<vm id=\"a&quot;&lt;&amp;&gt;&apos;\"><name>x &lt; y &amp; "
              "&quot;z&quot; &gt; &apos;w&apos;</name>"
              "<ctl>a\xEF\xBF\xBD" "b\tc</ctl>"
              "<utf>caf\xC3\xA9 \xE2\x98\x83</utf></vm>");
}

static void
test_render_errors(void **state)
{
    (void)state;
    json_t *j = J("{\"bad key\": \"1\"}");
    cmn_err_reset();
    assert_null(eng_xml_render(j, "vm"));
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "'bad key' is not an XML element"));
    json_decref(j);

    j = J("{\"vm\": [], \"host\": []}");
    cmn_err_reset();
    assert_null(eng_xml_render(j, NULL));
    assert_non_null(strstr(cmn_err_msg(), "one array member"));
    json_decref(j);

    j = J("{\"a\": [[1]]}");
    cmn_err_reset();
    assert_null(eng_xml_render(j, "x"));
    assert_non_null(strstr(cmn_err_msg(), "holds an array"));
    json_decref(j);

    j = J("[1]");
    cmn_err_reset();
    assert_null(eng_xml_render(j, "x"));
    json_decref(j);
}

/* Parse `xml`, expect root `root` and a tree equal to `json`. */
static void
parse_is(const char *xml, const char *root, const char *json)
{
    char got_root[64] = "";
    cmn_err_reset();
    json_t *t = eng_xml_parse(xml, strlen(xml), 1 << 20, got_root,
                              sizeof(got_root));
    if (t == NULL)
        fail_msg("parse %s: %s", xml, cmn_err_msg());
    json_t *want = J(json);
    if (!json_equal(t, want)) {
        char *s = json_dumps(t, JSON_SORT_KEYS);
        fail_msg("parse %s:\n got %s\nwant %s", xml, s, json);
    }
    assert_string_equal(got_root, root);
    json_decref(t);
    json_decref(want);
}

static void
parse_bad(const char *xml, cmn_code_t code, const char *needle)
{
    cmn_err_reset();
    json_t *t = eng_xml_parse(xml, strlen(xml), 4096, NULL, 0);
    if (t != NULL) {
        json_decref(t);
        fail_msg("parse %s succeeded", xml);
    }
    assert_int_equal(cmn_err_code(), code);
    if (strstr(cmn_err_msg(), needle) == NULL)
        fail_msg("parse %s: message '%s' lacks '%s'", xml, cmn_err_msg(),
                 needle);
}

static void
test_parse_action(void **state)
{
    (void)state;
    parse_is("<action/>", "action", "{}");
    parse_is("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<action>\n"
             "  <async>false</async>\n</action>\n", "action",
             "{\"async\": \"false\"}");
    parse_is("<action><ticket><value>s3cr&amp;t</value>"
             "<expiry>120</expiry></ticket></action>", "action",
             "{\"ticket\": {\"value\": \"s3cr&t\", \"expiry\": \"120\"}}");
    parse_is("<action><host id=\"h1\"/></action>", "action",
             "{\"host\": {\"id\": \"h1\"}}");
    parse_is("\xEF\xBB\xBF<action><!-- why --><force>true</force></action>"
             "<!-- trailing -->\n", "action", "{\"force\": \"true\"}");
}

static void
test_parse_vm(void **state)
{
    (void)state;
    parse_is("<vm>\n  <name>web-1</name>\n  <memory>1073741824</memory>\n"
             "  <cluster><name>Default</name></cluster>\n"
             "  <cpu><topology><sockets>2</sockets></topology></cpu>\n"
             "  <description></description>\n"
             "  <placement_policy><hosts><host><name>h1</name></host>"
             "</hosts></placement_policy>\n"
             "  <nics><nic><name>nic1</name></nic><nic><name>nic2</name>"
             "</nic></nics>\n"
             "  <link rel='a' href='/a'/><link rel='b' href='/b'/>\n"
             "</vm>", "vm",
             "{\"name\": \"web-1\", \"memory\": \"1073741824\","
             " \"cluster\": {\"name\": \"Default\"},"
             " \"cpu\": {\"topology\": {\"sockets\": \"2\"}},"
             " \"description\": \"\","
             " \"placement_policy\": {\"hosts\": {\"host\": "
             "[{\"name\": \"h1\"}]}},"
             " \"nics\": {\"nic\": [{\"name\": \"nic1\"}, {\"name\": \"nic2\"}]},"
             " \"link\": [{\"rel\": \"a\", \"href\": \"/a\"},"
             " {\"rel\": \"b\", \"href\": \"/b\"}]}");
    /* entities, character references, CDATA, attribute quotes */
    parse_is("<vm id=\"a&quot;b\" href='x&apos;y'><name>&lt;&#65;&#x263A;"
             "&gt;</name><description><![CDATA[<raw> & stuff]]></description>"
             "</vm>", "vm",
             "{\"id\": \"a\\\"b\", \"href\": \"x'y\", "
             "\"name\": \"<A\\u263a>\", \"description\": \"<raw> & stuff\"}");
    parse_is("<vm><name>caf\xC3\xA9</name></vm>", "vm",
             "{\"name\": \"caf\\u00e9\"}");
}

static void
test_parse_refusals(void **state)
{
    (void)state;
    parse_bad("<!DOCTYPE foo [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
              "<vm><name>&x;</name></vm>", CMN_ERR_INVALID,
              "line 1, column 1: DTDs (<!DOCTYPE>) are not accepted");
    parse_bad("<vm><name>&x;</name></vm>", CMN_ERR_INVALID,
              "unknown entity '&x;'");
    parse_bad("<vm>\n<name>a &b</name></vm>", CMN_ERR_INVALID,
              "line 2, column 9: '&' must start an entity");
    parse_bad("<vm><?php x ?></vm>", CMN_ERR_INVALID,
              "processing instructions are not accepted");
    parse_bad("<vm><!ENTITY a 'b'></vm>", CMN_ERR_INVALID,
              "DTD declarations are not accepted");
    parse_bad("<vm><name>a</nam></vm>", CMN_ERR_INVALID,
              "line 1, column 12: </nam> closes <name>");
    parse_bad("<vm><name>a</name>", CMN_ERR_INVALID, "<vm> is not closed");
    parse_bad("<vm/><vm/>", CMN_ERR_INVALID,
              "column 6: content after the root element <vm>");
    parse_bad("", CMN_ERR_INVALID, "empty body");
    parse_bad("   ", CMN_ERR_INVALID, "empty body");
    parse_bad("hello", CMN_ERR_INVALID, "expected an element");
    parse_bad("{\"name\": \"x\"}", CMN_ERR_INVALID, "expected an element");
    parse_bad("<vm>text</vm>", CMN_ERR_INVALID,
              "root element <vm> holds only text");
    parse_bad("<vm>a<name>x</name></vm>", CMN_ERR_INVALID,
              "<vm> mixes text with child elements");
    parse_bad("<vm id=\"1\">a</vm>", CMN_ERR_INVALID,
              "<vm> mixes text with attributes");
    parse_bad("<vm a=\"1\" a=\"2\"/>", CMN_ERR_INVALID,
              "attribute 'a' repeated");
    parse_bad("<vm id=\"1\"><id>2</id></vm>", CMN_ERR_INVALID,
              "repeats attribute 'id'");
    parse_bad("<vm a=1/>", CMN_ERR_INVALID, "needs a quoted value");
    parse_bad("<vm a=\"<\"/>", CMN_ERR_INVALID, "'<' in the value");
    parse_bad("<vm a=\"1\"b=\"2\"/>", CMN_ERR_INVALID, "expected a blank");
    parse_bad("<ns:vm/>", CMN_ERR_INVALID, "namespaces are not supported");
    parse_bad("<vm><name>&#0;</name></vm>", CMN_ERR_INVALID,
              "bad character reference");
    parse_bad("<vm><name>&#xD800;</name></vm>", CMN_ERR_INVALID,
              "bad character reference");
    parse_bad("<vm><name>&#x110000;</name></vm>", CMN_ERR_INVALID,
              "bad character reference");
    parse_bad("<vm><name>\xff</name></vm>", CMN_ERR_INVALID,
              "not valid UTF-8");
    parse_bad("<vm><name>a\x01</name></vm>", CMN_ERR_INVALID,
              "column 12: control character 0x01 in <name>");
    parse_bad("<vm a=\"\x02\"/>", CMN_ERR_INVALID,
              "control character 0x02 in attribute 'a'");
    parse_bad("<vm><name><![CDATA[a\x18]]></name></vm>", CMN_ERR_INVALID,
              "control character 0x18 in <name>");
    parse_bad("<vm><!-- open </vm>", CMN_ERR_INVALID, "comment is not closed");
    parse_bad("<vm><![CDATA[x</vm>", CMN_ERR_INVALID, "CDATA section is not");
    parse_bad("<vm/><?xml version=\"1.0\"?>", CMN_ERR_INVALID,
              "processing instructions");

    /* NUL inside */
    cmn_err_reset();
    assert_null(eng_xml_parse("<vm>\0</vm>", 10, 100, NULL, 0));
    assert_non_null(strstr(cmn_err_msg(), "NUL byte"));

    /* size limit, checked before reading */
    cmn_err_reset();
    assert_null(eng_xml_parse("<vm/>", 5, 4, NULL, 0));
    assert_int_equal(cmn_err_code(), CMN_ERR_TOO_BIG);
    assert_non_null(strstr(cmn_err_msg(), "5 bytes, more than 4"));

    /* depth limit */
    char deep[1024] = "";
    size_t off = 0;
    for (int i = 0; i < ENG_XML_MAX_DEPTH + 1; i++)
        off += (size_t)snprintf(deep + off, sizeof(deep) - off, "<a>");
    for (int i = 0; i < ENG_XML_MAX_DEPTH + 1; i++)
        off += (size_t)snprintf(deep + off, sizeof(deep) - off, "</a>");
    parse_bad(deep, CMN_ERR_INVALID, "nested deeper than 32");
    /* exactly the limit is fine */
    deep[0] = '\0';
    off = 0;
    for (int i = 0; i < ENG_XML_MAX_DEPTH; i++)
        off += (size_t)snprintf(deep + off, sizeof(deep) - off, "<a>");
    for (int i = 0; i < ENG_XML_MAX_DEPTH; i++)
        off += (size_t)snprintf(deep + off, sizeof(deep) - off, "</a>");
    cmn_err_reset();
    json_t *t = eng_xml_parse(deep, strlen(deep), 4096, NULL, 0);
    if (t == NULL)
        fail_msg("depth %d: %s", ENG_XML_MAX_DEPTH, cmn_err_msg());
    json_decref(t);
}

/* Rendering then parsing gives the tree back (with scalars as strings). */
static void
test_round_trip(void **state)
{
    (void)state;
    const char *json =
        "{\"id\": \"v1\", \"href\": \"/vms/v1\", \"name\": \"a<b>&\\\"c'\","
        " \"cluster\": {\"id\": \"c1\", \"href\": \"/c/c1\"},"
        " \"disk_attachments\": {\"disk_attachment\": [{\"id\": \"d1\","
        " \"bootable\": \"true\", \"disk\": {\"id\": \"x\"}}]},"
        " \"actions\": {\"link\": [{\"rel\": \"start\", \"href\": \"/s\"},"
        " {\"rel\": \"stop\", \"href\": \"/t\"}]},"
        " \"description\": \"line1\\nline2 \\u2603\"}";
    json_t *j = J(json);
    char *xml = eng_xml_render(j, "vm");
    assert_non_null(xml);
    char root[16];
    cmn_err_reset();
    json_t *back = eng_xml_parse(xml, strlen(xml), 1 << 20, root, sizeof(root));
    if (back == NULL)
        fail_msg("reparse: %s\n%s", cmn_err_msg(), xml);
    assert_string_equal(root, "vm");
    if (!json_equal(j, back)) {
        char *s = json_dumps(back, JSON_SORT_KEYS);
        fail_msg("round trip:\n got %s\nwant %s", s, json);
    }
    json_decref(back);
    free(xml);
    json_decref(j);
}

static void
test_name_ok(void **state)
{
    (void)state;
    assert_true(eng_xml_name_ok("vm"));
    assert_true(eng_xml_name_ok("data_center"));
    assert_true(eng_xml_name_ok("_x.y-z9"));
    assert_false(eng_xml_name_ok(""));
    assert_false(eng_xml_name_ok(NULL));
    assert_false(eng_xml_name_ok("9a"));
    assert_false(eng_xml_name_ok("a b"));
    assert_false(eng_xml_name_ok("a:b"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_collection),
        cmocka_unit_test(test_render_resource),
        cmocka_unit_test(test_render_escaping),
        cmocka_unit_test(test_render_errors),
        cmocka_unit_test(test_parse_action),
        cmocka_unit_test(test_parse_vm),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_name_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
