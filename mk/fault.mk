# mk/fault.mk — fault injection (tests/test_faults.c). Only that test binary is linked with the
# allocation wrappers, so src/ carries no allocator hook: every malloc/calloc/realloc/free the
# library makes in this binary goes to the __wrap_* functions the test defines.
FAULT_WRAP := -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc -Wl,--wrap=free
$(BUILD)/tests/test_faults: LDLIBS += $(FAULT_WRAP)
