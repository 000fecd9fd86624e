/* The results line, built in one buffer and written with one console call. */
#include "results.h"
#include "clock.h"
#include "console.h"

#define MAX_RESULTS 16
#define MAX_CHECKS 160
#define MAX_DEVICES 8
#define ID_SIZE 40
#define MSG_SIZE 80

struct check_entry {
  char id[ID_SIZE];
  bool ok;
  char msg[MSG_SIZE];
};

struct device_entry {
  const char *type;
  u64 base;
  u32 irq;
  u32 version;
};

static struct work_result results[MAX_RESULTS];
static u32 result_count;
static struct check_entry checks[MAX_CHECKS];
static u32 check_count, checks_dropped;
static struct device_entry devices[MAX_DEVICES];
static u32 device_count;
static const char *error_message;
static char line[16384];

struct work_result *result_begin(const char *work) {
  if (result_count == MAX_RESULTS) return NULL;
  struct work_result *r = &results[result_count++];
  memset(r, 0, sizeof *r);
  r->work = work;
  r->ok = true;
  return r;
}

void result_fail(struct work_result *r, const char *why) {
  if (r->ok) {
    struct strbuf note = STRBUF(r->note);
    sb_str(&note, why);
  }
  r->ok = false;
}

static void copy(char *dst, usize size, const char *src) {
  struct strbuf sb = {dst, 0, size};
  dst[0] = 0;
  sb_str(&sb, src);
}

void check(const char *id, bool ok, const char *msg) {
  if (check_count == MAX_CHECKS) {
    checks_dropped++;
    return;
  }
  struct check_entry *c = &checks[check_count++];
  copy(c->id, sizeof c->id, id);
  c->ok = ok;
  copy(c->msg, sizeof c->msg, ok ? "" : msg);
}

void check_detail(const char *id, bool ok, const struct strbuf *detail) { check(id, ok, detail->data); }

void result_device(const char *type, u64 base, u32 irq, u32 version) {
  if (device_count == MAX_DEVICES) return;
  devices[device_count++] = (struct device_entry){type, base, irq, version};
}

void result_error(const char *message) {
  if (!error_message) error_message = message;
}

static void field_u64(struct strbuf *sb, const char *key, u64 value) {
  sb_str(sb, ",\"");
  sb_str(sb, key);
  sb_str(sb, "\":");
  sb_u64(sb, value);
}

void results_print(void) {
  bool ok = !error_message && checks_dropped == 0;
  for (u32 i = 0; i < result_count; i++) ok = ok && results[i].ok;
  for (u32 i = 0; i < check_count; i++) ok = ok && checks[i].ok;
  struct strbuf sb = STRBUF(line);
  sb_str(&sb, RESULT_PREFIX "{\"v\":1,\"status\":");
  sb_json_string(&sb, error_message ? "error" : ok ? "ok" : "fail");
  if (error_message) {
    sb_str(&sb, ",\"error\":");
    sb_json_string(&sb, error_message);
  }
  sb_str(&sb, ",\"clock\":");
  sb_json_string(&sb, clock_available() ? "kvmclock" : "none");
  sb_str(&sb, ",\"devices\":[");
  for (u32 i = 0; i < device_count; i++) {
    sb_str(&sb, i ? ",{\"type\":" : "{\"type\":");
    sb_json_string(&sb, devices[i].type);
    sb_str(&sb, ",\"base\":\"");
    sb_hex(&sb, devices[i].base);
    sb_char(&sb, '"');
    field_u64(&sb, "irq", devices[i].irq);
    field_u64(&sb, "version", devices[i].version);
    sb_char(&sb, '}');
  }
  sb_str(&sb, "],\"results\":[");
  for (u32 i = 0; i < result_count; i++) {
    const struct work_result *r = &results[i];
    sb_str(&sb, i ? ",{\"work\":" : "{\"work\":");
    sb_json_string(&sb, r->work);
    sb_str(&sb, r->ok ? ",\"ok\":true" : ",\"ok\":false");
    field_u64(&sb, "ops", r->ops);
    field_u64(&sb, "bytes", r->bytes);
    field_u64(&sb, "ns", r->ns);
    field_u64(&sb, "errors", r->errors);
    sb_str(&sb, ",\"note\":");
    sb_json_string(&sb, r->note);
    sb_char(&sb, '}');
  }
  sb_str(&sb, "],\"checks\":[");
  for (u32 i = 0; i < check_count; i++) {
    sb_str(&sb, i ? ",[" : "[");
    sb_json_string(&sb, checks[i].id);
    sb_str(&sb, checks[i].ok ? ",true," : ",false,");
    sb_json_string(&sb, checks[i].msg);
    sb_char(&sb, ']');
  }
  sb_str(&sb, "]");
  field_u64(&sb, "checksDropped", checks_dropped);
  sb_str(&sb, "}\n");
  if (sb.len + 1 >= sb.cap) {
    /* Never print a cut line the host would fail to parse: say so instead. */
    console_write(RESULT_PREFIX "{\"v\":1,\"status\":\"error\",\"error\":\"results line too long\"}\n");
    return;
  }
  console_write_n(sb.data, sb.len);
}
