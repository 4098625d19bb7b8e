/* atsm-token.h -- placeholder */
