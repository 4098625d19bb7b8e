/* atsm-journal.h -- placeholder */
