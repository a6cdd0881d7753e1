/*
 * orders-listener: applies payment.done events (order -> paid, reservation
 * -> sold) and expires orders left unpaid past ORDER_TTL. Every step is
 * idempotent, so the same event from the bus and from the catch-up scan, or
 * twice from either, changes the order once.
 */
#ifndef MB_LISTENER_H
#define MB_LISTENER_H

#include "db.h"
#include "inv.h"

/* 1 applied now, 0 nothing to do (already applied / unknown), <0 try later. */
int listener_apply(db *d, inv_client *inv, const char *event_id, const char *ref);
/* Applies every recorded event not applied yet; returns how many failed. */
int listener_catch_up(db *d, inv_client *inv);
/* Expires unpaid orders older than ttl_s; returns how many were expired. */
int listener_expire(db *d, inv_client *inv, int64_t ttl_s);

#endif
