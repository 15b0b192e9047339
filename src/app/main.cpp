#include "app/app.hpp"

int main(int argc, char** argv) { return mk::app::main_cli(argc, argv); }
