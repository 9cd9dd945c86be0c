# mk/synth.mk — tools/make_model (a tools/<name>.c program, built by the Makefile's generic rule)
# also links the synthetic-model helpers in tools/synth/: the random streams and the tensor plan.
SYNTH_SRC := $(wildcard tools/synth/*.c)
$(BUILD)/make_model: $(SYNTH_SRC:%.c=$(BUILD)/%.o)
