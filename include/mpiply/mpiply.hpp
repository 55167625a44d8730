#pragma once
// The one header a mpiply program includes.
#include <mpiply/async_map_result.hpp>
#include <mpiply/async_result.hpp>
#include <mpiply/client.hpp>
#include <mpiply/direct_view.hpp>
#include <mpiply/engine.hpp>
#include <mpiply/environment.hpp>
#include <mpiply/errors.hpp>
#include <mpiply/load_balanced_view.hpp>
#include <mpiply/map_options.hpp>
#include <mpiply/metadata.hpp>
#include <mpiply/reference.hpp>
#include <mpiply/register.hpp>
#include <mpiply/run.hpp>
#include <mpiply/run_options.hpp>
#include <mpiply/time.hpp>
#include <mpiply/version.hpp>
