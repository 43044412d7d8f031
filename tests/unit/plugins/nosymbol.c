/* A shared object that is not a docproc stage: it lacks the entry symbol. */
int not_a_stage(void);
__attribute__((visibility("default"))) int not_a_stage(void) { return 42; }
