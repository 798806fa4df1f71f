/* SPDX-License-Identifier: MIT */
/*
 * Entry points of the configuration library: read a file, let libyaml build the document,
 * hand the root node to the schema (config_schema.c), and report errors as file:line:col.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_private.h"

/* A configuration is a few kilobytes; refuse to slurp something that clearly is not one. */
#define MAX_FILE_SIZE (16u << 20)

int
sl__config_fail(struct sl__config_ctx *c, const yaml_node_t *node, const char *fmt, ...)
{
	struct sl_config_error *e = c->err;
	va_list ap;

	e->line = node ? (int)node->start_mark.line + 1 : 0;
	e->col = node ? (int)node->start_mark.column + 1 : 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int set_error(struct sl_config_error *err, int line, int col, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
set_error(struct sl_config_error *err, int line, int col, int rc, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

/* libyaml's own diagnosis, at its problem mark (reader errors only give a byte offset). */
static int
yaml_error(const yaml_parser_t *p, struct sl_config_error *err, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	int line = 1, col = 1;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return set_error(err, 0, 0, -ENOMEM, "out of memory while parsing YAML");
	case YAML_READER_ERROR:
		for (size_t i = 0; i < p->problem_offset && i < len; i++, col++) {
			if (buf[i] == '\n') {
				line++;
				col = 0;
			}
		}
		return set_error(err, line, col, -EINVAL, "invalid text: %s", problem);
	default:
		line = (int)p->problem_mark.line + 1;
		col = (int)p->problem_mark.column + 1;
		if (p->context)
			return set_error(err, line, col, -EINVAL,
					 "invalid YAML: %s (%s at line %d)", problem, p->context,
					 (int)p->context_mark.line + 1);
		return set_error(err, line, col, -EINVAL, "invalid YAML: %s", problem);
	}
}

int
sl_config_load_buffer(const char *name, const char *buf, size_t len, struct sl_config **out,
		      struct sl_config_error *err)
{
	struct sl_config_error scratch;
	struct sl__config_ctx c;
	yaml_document_t doc, extra;
	yaml_parser_t parser;
	yaml_node_t *root;
	struct sl_config *cfg;
	int rc;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", name ? name : "<buffer>");
	if (!buf && len)
		return set_error(err, 0, 0, -EINVAL, "no configuration text");
	if (!yaml_parser_initialize(&parser))
		return set_error(err, 0, 0, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)(buf ? buf : ""), len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_error(&parser, err, buf, len);
		goto out_parser;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		rc = set_error(err, 1, 1, -EINVAL,
			       "the configuration is empty; expected a mapping of settings");
		goto out_doc;
	}
	/* A second document would be silently ignored: refuse it (and any syntax error in it). */
	if (!yaml_parser_load(&parser, &extra)) {
		rc = yaml_error(&parser, err, buf, len);
		goto out_doc;
	}
	if (yaml_document_get_root_node(&extra)) {
		const yaml_mark_t *m = &yaml_document_get_root_node(&extra)->start_mark;

		rc = set_error(err, (int)m->line + 1, (int)m->column + 1, -EINVAL,
			       "only one YAML document is allowed in a configuration");
		yaml_document_delete(&extra);
		goto out_doc;
	}
	yaml_document_delete(&extra);

	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		rc = set_error(err, 0, 0, -ENOMEM, "out of memory");
		goto out_doc;
	}
	sl__config_set_defaults(cfg);
	snprintf(cfg->file, sizeof(cfg->file), "%s", err->file);
	c = (struct sl__config_ctx){.file = err->file, .err = err, .cfg = cfg, .doc = &doc};
	rc = sl__config_apply(&c, root);
	if (rc < 0) {
		if (rc == -ENOMEM)
			set_error(err, 0, 0, rc, "out of memory");
		sl_config_free(cfg);
		goto out_doc;
	}
	*out = cfg;
out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	return rc;
}

int
sl_config_load_file(const char *path, struct sl_config **out, struct sl_config_error *err)
{
	struct sl_config_error scratch;
	size_t len = 0, cap = 4096;
	char *buf, *bigger;
	FILE *f;
	int rc;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path);
	f = fopen(path, "rb");
	if (!f) {
		rc = errno;
		return set_error(err, 0, 0, -rc, "cannot open configuration file: %s",
				 strerror(rc));
	}
	buf = malloc(cap);
	if (!buf) {
		rc = set_error(err, 0, 0, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		errno = 0;
		len += fread(buf + len, 1, cap - len, f);
		if (ferror(f)) {
			int e = errno ? errno : EIO;

			rc = set_error(err, 0, 0, -e, "cannot read configuration file: %s",
				       strerror(e));
			goto out;
		}
		if (feof(f))
			break;
		if (cap >= MAX_FILE_SIZE) {
			rc =
			    set_error(err, 0, 0, -EFBIG, "configuration file is larger than %u MiB",
				      MAX_FILE_SIZE >> 20);
			goto out;
		}
		bigger = realloc(buf, cap * 2);
		if (!bigger) {
			rc = set_error(err, 0, 0, -ENOMEM, "out of memory");
			goto out;
		}
		buf = bigger;
		cap *= 2;
	}
	rc = sl_config_load_buffer(path, buf, len, out, err);
out:
	free(buf);
	fclose(f);
	return rc;
}

static void
free_strlist(struct sl_config_strlist *list)
{
	for (unsigned int i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
}

void
sl_config_free(struct sl_config *cfg)
{
	if (!cfg)
		return;
	for (unsigned int s = 0; s < cfg->n_services; s++) {
		struct sl_config_service *svc = &cfg->services[s];

		for (unsigned int l = 0; l < svc->n_locations; l++)
			free(svc->locations[l].backends);
		free(svc->locations);
	}
	free(cfg->services);
	free(cfg->dataplane.ports);
	free_strlist(&cfg->cors.allowed_origins);
	free_strlist(&cfg->cors.allowed_methods);
	free_strlist(&cfg->cors.allowed_headers);
	free_strlist(&cfg->tls.domains);
	free(cfg);
}

void
sl_config_error_format(const struct sl_config_error *err, char *buf, size_t len)
{
	if (err->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", err->file, err->line, err->col, err->msg);
	else
		snprintf(buf, len, "%s: %s", err->file, err->msg);
}
