/* atsm-migrate.h -- placeholder */
